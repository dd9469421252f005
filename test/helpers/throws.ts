/**
 * The error `fn` throws, checked to be an instance of `type`. Fails the test when `fn` returns normally or throws
 * something else, so a test that inspects the error cannot pass by catching nothing.
 */
export function thrownBy<E>(fn: () => unknown, type: abstract new (...args: never[]) => E): E {
  try {
    fn();
  } catch (e) {
    if (e instanceof type) return e;
    throw new Error(`expected a ${type.name}, got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  }
  throw new Error(`expected a ${type.name}, but nothing was thrown`);
}
