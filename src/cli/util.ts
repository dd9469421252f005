import { stdin, stderr } from 'node:process';
import { PROTOCOL_NAMES, type ProtocolName } from '../observation/types.js';

/** A mistake in the command line or its inputs: printed as one line, exit 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function intOption(name: string, min: number, max: number): (v: string) => number {
  return (v: string) => {
    if (!/^\d+$/.test(v)) throw new UsageError(`${name}: '${v}' is not a whole number`);
    const n = Number(v);
    if (n < min || n > max) throw new UsageError(`${name}: ${n} outside ${min}..${max}`);
    return n;
  };
}

export function protocolList(v: string): ProtocolName[] {
  const out: ProtocolName[] = [];
  for (const raw of v.split(/[,|+]/)) {
    const p = raw.trim().toUpperCase().replace('-', '_') as ProtocolName;
    if (!p) continue;
    if (!PROTOCOL_NAMES.includes(p)) throw new UsageError(`--offer: unknown protocol '${raw}' (one of ${PROTOCOL_NAMES.join(', ')})`);
    if (!out.includes(p)) out.push(p);
  }
  return out;
}

/** `DOMAIN\user`, `user@domain` or `user`. */
export function parseUser(v: string): { user: string; domain?: string } {
  const bs = v.indexOf('\\');
  if (bs > 0) return { domain: v.slice(0, bs), user: v.slice(bs + 1) };
  return { user: v };
}

/**
 * The password for --user: from RDPROBE_PASSWORD, or typed at a terminal prompt with echo off. Never from argv (it
 * would show in `ps` and shell history).
 */
export async function readPassword(user: string): Promise<string> {
  const env = process.env.RDPROBE_PASSWORD;
  if (env !== undefined) return env;
  if (!stdin.isTTY) throw new UsageError(`--user ${user}: set RDPROBE_PASSWORD or run on a terminal to be prompted`);
  stderr.write(`Password for ${user}: `);
  return await new Promise<string>((resolve, reject) => {
    let pw = '';
    stdin.setRawMode(true);
    stdin.resume();
    const onData = (b: Buffer) => {
      for (const ch of b.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new UsageError('interrupted'));
        if (ch === '\u007f' || ch === '\b') pw = pw.slice(0, -1);
        else pw += ch;
      }
    };
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.removeListener('data', onData);
      stderr.write('\n');
      if (err) reject(err);
      else resolve(pw);
    };
    stdin.on('data', onData);
  });
}
