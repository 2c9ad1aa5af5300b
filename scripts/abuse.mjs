// `npm run abuse -- HOST PORT KEY PID [--scenario NAME]… [--quick] [--udp-port U]` or
// `npm run abuse -- --start [--against-bootstrapd] …`: the abuse scenarios of src/abuse/
// (TypeScript through tsx, as the suite runs).
import { spawn } from 'node:child_process';

const child = spawn(process.execPath, ['--import', 'tsx', 'src/abuse/main.ts', ...process.argv.slice(2)], { stdio: 'inherit' });
child.on('close', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
