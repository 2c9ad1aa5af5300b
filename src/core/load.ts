// Loads the compiled core in Node: build/core.wasm from the package root (a browser passes the
// bytes it fetched to CoreInstance.fromWasm, in instance.ts, and never imports this file).

export { instantiateCore } from './instance.ts';

let cachedModule: Promise<Uint8Array<ArrayBuffer>> | undefined;

/** The wasm bytes from build/core.wasm, found by walking up to the package root. */
export function readCoreWasm(): Promise<Uint8Array<ArrayBuffer>> {
  cachedModule ??= (async () => {
    const { readFile } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const { packageRoot } = await import('../package-root.ts');
    const root = packageRoot();
    if (!root) throw new Error('cannot find the toxrelay package root');
    const path = join(root, 'build', 'core.wasm');
    try {
      return new Uint8Array(await readFile(path));
    } catch {
      throw new Error(`${path} is missing; run \`npm run build\``);
    }
  })();
  return cachedModule;
}
