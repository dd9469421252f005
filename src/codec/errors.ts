/**
 * The one error type every decoder throws. A decoder never returns `undefined` for short input and never lets
 * Buffer's RangeError escape: it names the layer and field, the offset, and how many bytes it needed and had.
 */
export class DecodeError extends Error {
  readonly code = 'RDPROBE_DECODE';
  constructor(
    readonly layer: string,
    readonly field: string,
    readonly offset: number,
    message: string,
    readonly need?: number,
    readonly have?: number,
  ) {
    super(`${layer}: ${field} at offset ${offset}: ${message}`);
    this.name = 'DecodeError';
  }
}

export function isDecodeError(e: unknown): e is DecodeError {
  return e instanceof DecodeError;
}
