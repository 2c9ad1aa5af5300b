// Instantiates the compiled core. Node reads build/core.wasm from the package root; a browser
// passes the bytes it fetched.

import type { CoreExports } from './exports.ts';

export async function instantiateCore(bytes: BufferSource): Promise<CoreExports> {
  const { instance } = await WebAssembly.instantiate(bytes, {
    env: {
      abort(_msg: number, _file: number, line: number, column: number) {
        throw new Error(`relay core aborted at line ${line}:${column}`);
      },
    },
  });
  return instance.exports as unknown as CoreExports;
}

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
