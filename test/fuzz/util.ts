// Assertions for the fuzz targets: plain Errors, so fast-check reports and shrinks them.

export function check(cond: unknown, message: string): asserts cond {
  if (!cond) throw new Error(message);
}

export function eq<T>(actual: T, expected: T, message: string): void {
  const a = JSON.stringify(actual), e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${message}: got ${a.slice(0, 200)}, expected ${e.slice(0, 200)}`);
}

export const tick = () => new Promise<void>((r) => setImmediate(r));
