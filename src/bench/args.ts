// `toxrelay bench …` command line → what to run. Pure but for two looks at this machine (the
// open-files limit, whether --bootstrapd exists): every bad input is a CliError (exit 2)
// with one line naming the flag and what it takes.

import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CliError } from '../cli/args.ts';
import { type OpenFilesLimit, openFilesLimit } from '../cli/limits.ts';
import { WARMUP_CONNECTIONS } from './connect.ts';
import { BENCH_DEFAULTS, type BenchOptions, benchOptions, defaultThreads, isWorkload, type Workload, WORKLOADS } from './options.ts';
import { checkOptions, planWorkers } from './run.ts';

export const DEFAULT_OUT_DIR = 'build/bench-report';
export const DEFAULT_BOOTSTRAPD = '/usr/bin/tox-bootstrapd';

export interface CompareOptions {
  workloads: Workload[];
  rounds: number;
  outDir: string;
  /** tox-bootstrapd's path; it is left out when the file does not exist. */
  bootstrapd: string;
  /** Said before the figures: where the comparison departs from its defaults, and why. */
  notes: string[];
  /** The options of each workload (host, port and key are filled in per relay). */
  base: Omit<BenchOptions, 'workload' | 'port' | 'keyHex' | 'pairs'> & { throughputPairs: number; latencyPairs: number };
}

export type BenchCommand =
  | { kind: 'help' }
  | { kind: 'run'; options: BenchOptions; json: boolean; quiet: boolean }
  | { kind: 'compare'; compare: CompareOptions; json: boolean; quiet: boolean };

const OPTIONS = {
  host: { type: 'string' },
  port: { type: 'string' },
  key: { type: 'string' },
  pairs: { type: 'string' },
  'latency-pairs': { type: 'string' },
  size: { type: 'string' },
  window: { type: 'string' },
  duration: { type: 'string' },
  warmup: { type: 'string' },
  connections: { type: 'string' },
  concurrency: { type: 'string' },
  hold: { type: 'string' },
  'server-pid': { type: 'string' },
  threads: { type: 'string' },
  processes: { type: 'string' },
  'per-source': { type: 'string' },
  stall: { type: 'string' },
  timeout: { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean' },
  'allow-remote': { type: 'boolean' },
  compare: { type: 'boolean' },
  rounds: { type: 'string' },
  out: { type: 'string' },
  bootstrapd: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const SECONDS = new Set(['duration', 'warmup', 'hold', 'stall', 'timeout']);

/**
 * Descriptors a compared relay needs besides the measured connections: every worker's warm-up
 * connections, which tox-bootstrapd holds until its ping timeout, and 100 for its listeners,
 * stdio and files.
 */
function relaySpareDescriptors(connections: number, workers: Pick<BenchOptions, 'threads' | 'processes'>): number {
  const shares = planWorkers(benchOptions({ workload: 'connect', host: BENCH_DEFAULTS.host, port: 1, keyHex: '0'.repeat(64), connections, ...workers })).shares;
  return shares.reduce((sum, share) => sum + Math.min(WARMUP_CONNECTIONS, share), 0) + 100;
}

/**
 * `--compare`'s connections under this process's open-files limit, which the relays it starts
 * inherit (Node raises its soft limit to the hard one at start; tox-bootstrapd keeps what it gets).
 * The default shrinks to what fits, with a note; an explicit count that cannot fit is refused.
 */
function compareConnections(
  asked: number | undefined,
  workers: Pick<BenchOptions, 'threads' | 'processes'>,
  limit: OpenFilesLimit | null,
): { connections: number; note?: string } {
  const wanted = BENCH_DEFAULTS.compareConnections;
  const fits = limit === null ? Infinity : limit.soft - relaySpareDescriptors(asked ?? wanted, workers);
  if (asked !== undefined) {
    if (asked > fits) {
      throw new CliError(`bench: --connections ${asked} does not fit the open-files limit of ${limit!.soft} that each relay gets; at most ${Math.max(0, fits)} (raise it with ulimit -n)`);
    }
    if (asked >= wanted) return { connections: asked };
    return {
      connections: asked,
      note: `connect: memory per connection at ${asked} connections includes a relay's one-time costs (toxrelay: V8 touching its 32 MiB young generation once); read it at ${wanted}`,
    };
  }
  if (wanted <= fits) return { connections: wanted };
  const connections = Math.max(100, Math.floor(fits / 1000) * 1000 || fits);
  return {
    connections,
    note: `connect: ${connections} connections, not ${wanted}: the open-files limit is ${limit!.soft}; raise it (ulimit -n) to measure at ${wanted}`,
  };
}

/** `limit`: this process's open-files limit; null where none is known (not Linux). */
export function parseBenchArgs(argv: readonly string[], limit: OpenFilesLimit | null = openFilesLimit() ?? null): BenchCommand {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new CliError(`bench: ${(error as Error).message.split('\n')[0]} (see toxrelay bench --help)`);
  }
  const { values: v, positionals } = parsed;
  if (v.help || positionals.includes('help')) return { kind: 'help' };

  for (const p of positionals) {
    if (!isWorkload(p)) throw new CliError(`bench: unknown workload '${p}'; the workloads are ${WORKLOADS.join(', ')}`);
  }
  const workloads = [...new Set(positionals as Workload[])];
  const num = (name: keyof typeof OPTIONS): number | undefined => {
    const text = v[name];
    if (typeof text !== 'string') return undefined;
    const ok = SECONDS.has(name) ? /^(\d+(\.\d*)?|\.\d+)$/.test(text) : /^\d{1,15}$/.test(text);
    if (!ok) throw new CliError(`bench: --${name} needs ${SECONDS.has(name) ? 'a number of seconds' : 'a whole number'}; got '${text}'`);
    return Number(text);
  };
  const set = <K extends keyof BenchOptions>(o: Partial<BenchOptions>, key: K, value: BenchOptions[K] | undefined) => {
    if (value !== undefined) o[key] = value;
  };

  const common: Partial<BenchOptions> = {};
  set(common, 'host', v.host);
  set(common, 'size', num('size'));
  set(common, 'window', num('window'));
  set(common, 'durationS', num('duration'));
  set(common, 'warmupS', num('warmup'));
  set(common, 'connections', num('connections'));
  set(common, 'concurrency', num('concurrency'));
  set(common, 'holdS', num('hold'));
  set(common, 'threads', num('threads'));
  set(common, 'processes', num('processes'));
  set(common, 'perSource', num('per-source'));
  set(common, 'stallS', num('stall'));
  set(common, 'timeoutS', num('timeout'));
  if (v['allow-remote']) common.allowRemote = true;
  const json = v.json === true;
  const quiet = v.quiet === true;

  if (v.compare) {
    for (const flag of ['port', 'key', 'server-pid', 'host'] as const) {
      if (v[flag] !== undefined) throw new CliError(`bench: --${flag} does not go with --compare (the bench starts the relays itself)`);
    }
    const rounds = num('rounds') ?? 1;
    if (rounds < 1 || rounds > 100) throw new CliError(`bench: --rounds must be 1..100; got ${rounds}`);
    const throughputPairs = num('pairs') ?? BENCH_DEFAULTS.throughputPairs;
    const latencyPairs = num('latency-pairs') ?? BENCH_DEFAULTS.latencyPairs;
    if (v.bootstrapd !== undefined && !existsSync(v.bootstrapd)) throw new CliError(`bench: --bootstrapd ${v.bootstrapd} does not exist`);
    const out = v.out ?? DEFAULT_OUT_DIR;
    if (out === '') throw new CliError('bench: --out needs a directory');
    const connect: { connections: number; note?: string } =
      workloads.length === 0 || workloads.includes('connect') ? compareConnections(common.connections, { threads: common.threads ?? defaultThreads(), processes: common.processes ?? BENCH_DEFAULTS.processes }, limit) : { connections: common.connections ?? BENCH_DEFAULTS.compareConnections };
    const base = { ...benchOptions({ workload: 'throughput', host: BENCH_DEFAULTS.host, port: 1, keyHex: '0'.repeat(64), ...common, connections: connect.connections }) };
    // Check every workload's options now, not halfway through the comparison.
    for (const w of WORKLOADS) {
      check({ ...base, workload: w, pairs: w === 'latency' ? latencyPairs : throughputPairs });
    }
    const { workload: _w, port: _p, keyHex: _k, pairs: _pairs, ...rest } = base;
    return {
      kind: 'compare',
      compare: {
        workloads: workloads.length > 0 ? workloads : [...WORKLOADS],
        rounds,
        outDir: out,
        bootstrapd: v.bootstrapd ?? DEFAULT_BOOTSTRAPD,
        notes: connect.note ? [connect.note] : [],
        base: { ...rest, throughputPairs, latencyPairs },
      },
      json,
      quiet,
    };
  }

  for (const flag of ['rounds', 'out', 'bootstrapd', 'latency-pairs'] as const) {
    if (v[flag] !== undefined) throw new CliError(`bench: --${flag} goes only with --compare`);
  }
  if (workloads.length !== 1) {
    throw new CliError(`bench: name one workload (${WORKLOADS.join(', ')}), or use --compare (see toxrelay bench --help)`);
  }
  const workload = workloads[0]!;
  const port = num('port');
  if (port === undefined) throw new CliError('bench: --port is required (the relay to load)');
  if (v.key === undefined) throw new CliError("bench: --key is required (the relay's public key, 64 hex digits)");
  const options = benchOptions({ workload, host: BENCH_DEFAULTS.host, port, keyHex: v.key, ...common });
  set(options, 'pairs', num('pairs'));
  set(options, 'serverPid', num('server-pid'));
  check(options);
  return { kind: 'run', options, json, quiet };
}

function check(o: BenchOptions): void {
  try {
    checkOptions(o);
  } catch (error) {
    throw new CliError(`bench: ${(error as Error).message}`);
  }
}

