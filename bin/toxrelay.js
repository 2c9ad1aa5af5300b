#!/usr/bin/env node
// Entry point of the `toxrelay` command: the bundle is built by `npm install` (prepare) or `npm run build`.
// `npm start` runs it with src/young-generation.ts's flags; a shebang cannot pass them portably
// (`env -S` is missing from BusyBox and the BSDs), and NODE_OPTIONS does not accept them.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bundle = new URL('../build/cli.js', import.meta.url);
if (!existsSync(fileURLToPath(bundle))) {
  process.stderr.write('toxrelay: not built yet; run `npm run build` in the checkout first\n');
  process.exit(1);
}
const { main } = await import(bundle.href);
process.exitCode = await main(process.argv.slice(2));
