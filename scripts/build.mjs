// Builds the WebAssembly core (assembly/ → build/core.wasm) and the Node bundle (src/ → build/).
// Run by `npm run build`, and by `prepare`, so a fresh `npm install` leaves a runnable checkout.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
mkdirSync(join(root, 'build'), { recursive: true });

execFileSync(process.execPath, [join(root, 'node_modules/assemblyscript/bin/asc.js'), '--config', 'asconfig.json', '--target', 'release'], {
  cwd: root,
  stdio: 'inherit',
});

await esbuild.build({
  entryPoints: { cli: join(root, 'src/cli/main.ts') },
  outdir: join(root, 'build'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
});
