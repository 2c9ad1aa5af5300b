// `npm run abuse -- HOST PORT KEY PID [--scenario NAME]… [--quick] [--udp-port U] [--json]`
// `npm run abuse -- --start [--against-bootstrapd] [--scenario NAME]… [--quick]`: starts toxrelay
// (and tox-bootstrapd) itself via src/bench/relays.ts, runs the scenarios against each, and stops
// them by their own PIDs.

import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeUdpPort, startBootstrapd, startToxrelay, type StartedRelay } from '../bench/relays.ts';
import { ready } from '../client/sodium.ts';
import { type AbuseTarget, assertLoopback } from './common.ts';
import { formatTable } from './format.ts';
import { FULL, QUICK, runScenario, type ScenarioName, type ScenarioResult, SCENARIOS } from './scenarios.ts';

const BOOTSTRAPD = '/usr/bin/tox-bootstrapd';

const HELP = `toxrelay abuse scenarios (issue 6 part 2); loopback targets only
  npm run abuse -- HOST PORT KEY PID [--scenario NAME]… [--quick] [--udp-port U] [--json]
  npm run abuse -- --start [--against-bootstrapd] [--scenario NAME]… [--quick] [--json]
scenarios: ${SCENARIOS.join(', ')} (default: all)`;

export interface AbuseArgs {
  target?: AbuseTarget;
  start: boolean;
  bootstrapd: boolean;
  scenarios: ScenarioName[];
  quick: boolean;
  json: boolean;
}

export function parseArgs(argv: string[]): AbuseArgs {
  const pos: string[] = [];
  const scenarios: ScenarioName[] = [];
  let quick = false;
  let json = false;
  let start = false;
  let bootstrapd = false;
  let udpPort: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--scenario') {
      const n = argv[++i] as ScenarioName;
      if (!SCENARIOS.includes(n)) throw new Error(`unknown scenario ${n}; one of ${SCENARIOS.join(', ')}`);
      scenarios.push(n);
    } else if (a === '--quick') quick = true;
    else if (a === '--json') json = true;
    else if (a === '--start') start = true;
    else if (a === '--against-bootstrapd') bootstrapd = true;
    else if (a === '--udp-port') udpPort = Number(argv[++i]);
    else if (a === '--help' || a === '-h') {
      console.log(HELP);
      process.exit(0);
    } else if (a.startsWith('--')) throw new Error(`unknown flag ${a}`);
    else pos.push(a);
  }
  let target: AbuseTarget | undefined;
  if (pos.length) {
    if (pos.length !== 4) throw new Error('expected HOST PORT KEY PID');
    const [host, port, keyHex, pid] = pos as [string, string, string, string];
    assertLoopback(host);
    if (!/^[0-9a-fA-F]{64}$/.test(keyHex)) throw new Error('KEY must be 64 hex digits');
    target = { host, port: Number(port), keyHex, pid: Number(pid), ...(udpPort ? { udpPort } : {}) };
  } else if (!start) throw new Error('give HOST PORT KEY PID, or --start');
  return { target, start, bootstrapd, scenarios: scenarios.length ? scenarios : [...SCENARIOS], quick, json };
}

async function runAll(name: string, t: AbuseTarget, args: AbuseArgs): Promise<ScenarioResult[]> {
  const out: ScenarioResult[] = [];
  for (const s of args.scenarios) {
    process.stderr.write(`[${name}] ${s} …\n`);
    const r = await runScenario(s, t, args.quick ? QUICK : FULL);
    process.stderr.write(`[${name}] ${s}: ${r.ok ? 'ok' : 'FAIL'} — ${r.verdict}\n`);
    out.push(r);
  }
  return out;
}

function bootstrapdUdpPort(dir: string): number | undefined {
  try {
    const m = /^port = (\d+);/m.exec(readFileSync(join(dir, 'tox-bootstrapd.conf'), 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

export async function abuseMain(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  await ready();
  const results: Record<string, ScenarioResult[]> = {};
  if (args.target) results['target'] = await runAll('target', args.target, args);
  if (args.start) {
    const dir = await mkdtemp(join(tmpdir(), 'toxrelay-abuse-'));
    try {
      const udp = await freeUdpPort();
      let relay: StartedRelay | undefined = await startToxrelay(join(dir, 'toxrelay'), ['--udp-port', String(udp), '--max-per-ip', '100000']);
      try {
        results['toxrelay'] = await runAll('toxrelay', { host: '127.0.0.1', port: relay.port, keyHex: relay.keyHex, pid: relay.pid, udpPort: udp }, args);
      } finally {
        await relay.stop();
        relay = undefined;
      }
      if (args.bootstrapd) {
        if (!existsSync(BOOTSTRAPD)) process.stderr.write(`SKIPPED tox-bootstrapd: ${BOOTSTRAPD} is not installed\n`);
        else {
          const bdir = join(dir, 'bootstrapd');
          const b = await startBootstrapd(BOOTSTRAPD, bdir);
          try {
            const udpPort = bootstrapdUdpPort(bdir);
            results['tox-bootstrapd'] = await runAll('tox-bootstrapd', { host: '127.0.0.1', port: b.port, keyHex: b.keyHex, pid: b.pid, ...(udpPort ? { udpPort } : {}) }, args);
          } finally {
            await b.stop();
          }
        }
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  if (args.json) console.log(JSON.stringify(results, null, 2));
  else console.log(formatTable(results));
  const failed = (results['target'] ?? results['toxrelay'] ?? []).filter((r) => !r.ok).length;
  return failed ? 1 : 0;
}

const invokedDirectly = process.argv[1] && /abuse[\\/]main\.ts$/.test(process.argv[1]);
if (invokedDirectly) {
  abuseMain(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      console.error(`abuse: ${(error as Error).message}`);
      process.exit(2);
    },
  );
}
