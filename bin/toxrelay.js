#!/usr/bin/env -S node --min-semi-space-size=16 --max-semi-space-size=16
// Entry point of the `toxrelay` command: the bundle is built by `npm install` (prepare) or `npm run build`.
// The flags of the first line are src/young-generation.ts's (`npm start` passes them too).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bundle = new URL('../build/cli.js', import.meta.url);
if (!existsSync(fileURLToPath(bundle))) {
  process.stderr.write('toxrelay: not built yet; run `npm run build` in the checkout first\n');
  process.exit(1);
}
const { main } = await import(bundle.href);
process.exitCode = await main(process.argv.slice(2));
