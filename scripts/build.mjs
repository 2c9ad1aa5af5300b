// Builds the WebAssembly core (assembly/ → build/core.wasm), the Node bundle (src/ → build/) and
// the testbed page (src/testbed/page/ → build/testbed/: app.js for the browser, its HTML and CSS,
// and a copy of core.wasm for the in-page relay).
// Run by `npm run build`, and by `prepare`, so a fresh `npm install` leaves a runnable checkout.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
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

// The testbed page: one browser bundle with the client, libsodium and the in-page relay.
// libsodium's emscripten glue has a `require("crypto")` fallback that only runs where there is no
// Web Crypto; it is left as an unresolved external, never bundled.
const testbed = join(root, 'build', 'testbed');
mkdirSync(testbed, { recursive: true });
const pageResult = await esbuild.build({
  entryPoints: { app: join(root, 'src/testbed/page/main.ts') },
  absWorkingDir: root,
  outdir: testbed,
  bundle: true,
  platform: 'browser',
  format: 'esm',
  target: 'es2022',
  external: ['crypto'],
  sourcemap: true,
  metafile: true,
  logLevel: 'warning',
});
// A Node-only module in the page would fail in the browser at run time: refuse it at build time.
const nodeOnly = Object.keys(pageResult.metafile.inputs).filter((input) =>
  /^node:|^src\/(relay\/(tcp|listeners|ws|server)|udp|cli|bench|keys|package-root)\b|^src\/core\/load\.ts$/.test(input),
);
if (nodeOnly.length > 0) throw new Error(`the testbed bundle pulls in Node-only modules: ${nodeOnly.join(', ')}`);
for (const file of ['index.html', 'style.css']) copyFileSync(join(root, 'src/testbed/page', file), join(testbed, file));
copyFileSync(join(root, 'build', 'core.wasm'), join(testbed, 'core.wasm'));
