// `npm run fuzz -- [--target NAME]… [--seconds N] [--seed S] [--runs N]`: the fuzz targets of
// test/fuzz/ with random seeds for as long as asked (TypeScript through tsx, as the suite runs).
import { spawn } from 'node:child_process';

const child = spawn(process.execPath, ['--import', 'tsx', 'test/fuzz/runner.ts', ...process.argv.slice(2)], { stdio: 'inherit' });
child.on('close', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
