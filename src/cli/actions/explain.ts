import { CodeInputError, explainCode } from '../../diagnose/index.js';
import { renderExplanation } from '../../report/findings.js';
import { colorFor } from '../options/results.js';
import { UsageError } from '../util.js';

export function runExplainCommand(code: string, extended: string | undefined, o: { json?: boolean }): void {
  let e;
  try {
    e = explainCode(code, extended);
  } catch (err) {
    if (err instanceof CodeInputError) throw new UsageError(err.message);
    throw err;
  }
  const color = colorFor(process.stdout);
  process.stdout.write(o.json ? `${JSON.stringify(e, null, 2)}\n` : `${renderExplanation(e, { color })}\n`);
}
