// `bench --compare`: the same workloads against toxrelay and tox-bootstrapd, in alternation, each
// run against a freshly started relay (so one run's leftovers cannot bias the next), with the
// relay's PID for its memory and CPU figures. The result is a CompareReport (report.ts renders it).

import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import type { CompareOptions } from './args.ts';
import { type BenchOptions, type Workload } from './options.ts';
import { loopbackMtu } from './proc.ts';
import { type RelayName, startBootstrapd, type StartedRelay, startToxrelay, stopLiveRelays, toxrelayExtraArgs } from './relays.ts';
import { type BenchHooks, type BenchResult, runBench } from './run.ts';
import { mean } from './stats.ts';

export interface MachineInfo {
  cpuModel: string;
  cpus: number;
  node: string;
  kernel: string;
  memoryGiB: number;
  /** 1, 5 and 15-minute load averages when the comparison started. */
  loadavg: number[];
  loopbackMtu?: number;
}

export interface CompareRun {
  relay: RelayName;
  round: number;
  workload: Workload;
  command: string[];
  result: BenchResult;
  /** The relay's last output lines, when it failed or exited during the run. */
  relayOutput?: string[];
}

/** One figure compared: the direction that is better, and each relay's value per round. */
export interface Figure {
  id: string;
  workload: Workload;
  title: string;
  unit: string;
  better: 'higher' | 'lower';
  values: Partial<Record<RelayName, number[]>>;
  mean: Partial<Record<RelayName, number>>;
  /** mean(toxrelay) / mean(tox-bootstrapd). */
  ratio?: number;
}

export interface CompareReport {
  tool: string;
  startedAt: string;
  finishedAt: string;
  machine: MachineInfo;
  options: CompareOptions;
  relays: RelayName[];
  versions: Partial<Record<RelayName, string>>;
  skipped: string[];
  runs: CompareRun[];
  figures: Figure[];
}

/** What a figure may need from the whole comparison, not just its own run. */
interface FigureContext {
  /**
   * The fastest seal + open any throughput run of this comparison timed: each run times its own
   * on the quiet machine, and those drift (8.3-13.1 µs for 1 KB within one comparison here).
   */
  fastestBoxUs: number | undefined;
}

interface FigureDef {
  id: string;
  workload: Workload;
  title: string;
  unit: string;
  better: 'higher' | 'lower';
  get(r: BenchResult, context: FigureContext): number | undefined;
  /**
   * No toxrelay / tox-bootstrapd ratio: a figure already relative to a yardstick of its own run
   * (a ratio of two would mix two yardsticks, or repeat the CPU-per-packet figure).
   */
  noRatio?: true;
}

export const FIGURES: FigureDef[] = [
  { id: 'throughput.packetsPerS', workload: 'throughput', title: 'Relayed packets per second', unit: 'packets/s', better: 'higher', get: (r) => r.throughput?.packetsPerS },
  { id: 'throughput.megabytesPerS', workload: 'throughput', title: 'Payload relayed', unit: 'MB/s', better: 'higher', get: (r) => r.throughput?.megabytesPerS },
  { id: 'throughput.lossPct', workload: 'throughput', title: 'Packets lost (dropped by the relay), whole run', unit: '%', better: 'lower', get: (r) => (r.throughput ? r.throughput.lossRatio * 100 : undefined) },
  { id: 'throughput.cpuUsPerPacket', workload: 'throughput', title: 'Relay CPU time per relayed packet', unit: 'µs', better: 'lower', get: (r) => r.server?.cpuUsPerPacket },
  { id: 'throughput.cpuPerBoxOps', workload: 'throughput', title: "Relay CPU per packet ÷ the packet's seal + open in libsodium.js", unit: '×', better: 'lower', get: (r) => r.server?.cpuPerBoxOps, noRatio: true },
  {
    id: 'throughput.cpuPerFastestBoxOps',
    workload: 'throughput',
    title: 'Relay CPU per packet ÷ the fastest seal + open timed in this comparison',
    unit: '×',
    better: 'lower',
    get: (r, c) => (r.server?.cpuUsPerPacket !== undefined && c.fastestBoxUs ? r.server.cpuUsPerPacket / c.fastestBoxUs : undefined),
    noRatio: true,
  },
  { id: 'latency.p50Us', workload: 'latency', title: 'Round-trip time, median', unit: 'µs', better: 'lower', get: (r) => r.latency?.p50Us },
  { id: 'latency.p90Us', workload: 'latency', title: 'Round-trip time, 90th percentile', unit: 'µs', better: 'lower', get: (r) => r.latency?.p90Us },
  { id: 'latency.p99Us', workload: 'latency', title: 'Round-trip time, 99th percentile', unit: 'µs', better: 'lower', get: (r) => r.latency?.p99Us },
  { id: 'connect.handshakesPerS', workload: 'connect', title: 'Connections opened per second', unit: 'handshakes/s', better: 'higher', get: (r) => r.connect?.handshakesPerS },
  { id: 'connect.bytesPerConnection', workload: 'connect', title: 'Relay memory per held connection (RSS growth)', unit: 'bytes', better: 'lower', get: (r) => r.server?.bytesPerConnection },
  { id: 'connect.rssHeldMiB', workload: 'connect', title: 'Relay RSS with every connection held', unit: 'MiB', better: 'lower', get: (r) => (r.server?.after ? r.server.after.rssKiB / 1024 : undefined) },
];

export function machineInfo(): MachineInfo {
  const list = cpus();
  const info: MachineInfo = {
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    cpus: list.length,
    node: process.version,
    kernel: release(),
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    loadavg: loadavg().map((x) => Math.round(x * 100) / 100),
  };
  const mtu = loopbackMtu();
  if (mtu !== undefined) info.loopbackMtu = mtu;
  return info;
}

export interface CompareHooks {
  /** A run starts: which relay, round and workload. */
  onRun?(relay: RelayName, round: number, workload: Workload): BenchHooks;
  onRunDone?(run: CompareRun): void;
}

/** Each comparison's directory of relay keys and configs, removed when it ends. */
const runDirs = new Set<string>();

/**
 * Undoes what an interrupted comparison left: its relays are stopped and its directories (the
 * relays' keys among them) removed. For a signal handler; the comparison itself is abandoned.
 */
export async function cleanUpInterruptedCompare(): Promise<void> {
  await stopLiveRelays();
  await Promise.all([...runDirs].map((dir) => rm(dir, { recursive: true, force: true })));
  runDirs.clear();
}

export async function runCompare(c: CompareOptions, hooks: CompareHooks = {}): Promise<CompareReport> {
  const startedAt = new Date().toISOString();
  const machine = machineInfo();
  const relays: RelayName[] = ['toxrelay'];
  const skipped: string[] = [];
  if (existsSync(c.bootstrapd)) relays.push('tox-bootstrapd');
  else skipped.push(`tox-bootstrapd: ${c.bootstrapd} does not exist (install toxcore-utils)`);

  const toxrelayArgs = await toxrelayExtraArgs();
  const tmp = await mkdtemp(join(tmpdir(), 'toxrelay-bench-'));
  runDirs.add(tmp);
  const runs: CompareRun[] = [];
  const versions: Partial<Record<RelayName, string>> = {};
  try {
    let n = 0;
    for (let round = 1; round <= c.rounds; round++) {
      for (const workload of c.workloads) {
        // Alternate which relay goes first, so that neither always gets the cooler machine.
        const order = round % 2 === 1 ? relays : [...relays].reverse();
        for (const name of order) {
          const dir = join(tmp, `${name}-${++n}`);
          const sockets = workload === 'connect' ? c.base.connections : 2 * (workload === 'latency' ? c.base.latencyPairs : c.base.throughputPairs);
          let relay: StartedRelay | undefined;
          let run: CompareRun;
          try {
            // toxrelay's default cap is 10,000 connections; raise it only when the load needs more.
            const extra = [
              ...toxrelayArgs.all,
              ...(workload === 'latency' ? toxrelayArgs.latency : []),
              ...(sockets + 100 > 10_000 ? ['--max-connections', String(sockets + 1000)] : []),
            ];
            relay = name === 'toxrelay' ? await startToxrelay(dir, extra) : await startBootstrapd(c.bootstrapd, dir);
            versions[name] ??= relay.version();
            const options: BenchOptions = {
              ...c.base,
              workload,
              pairs: workload === 'latency' ? c.base.latencyPairs : c.base.throughputPairs,
              host: '127.0.0.1',
              port: relay.port,
              keyHex: relay.keyHex,
              serverPid: relay.pid,
            };
            const result = await runBench(options, hooks.onRun?.(name, round, workload));
            run = { relay: name, round, workload, command: relay.command, result };
            if (!relay.alive()) {
              result.errors.push(`${name} exited during the run`);
              run.relayOutput = relay.output();
            }
          } catch (error) {
            run = {
              relay: name,
              round,
              workload,
              command: relay?.command ?? [],
              result: emptyResult(workload, (error as Error).message),
            };
            if (relay) run.relayOutput = relay.output();
          } finally {
            await relay?.stop();
          }
          runs.push(run);
          hooks.onRunDone?.(run);
        }
      }
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
    runDirs.delete(tmp);
  }
  return {
    tool: 'toxrelay bench --compare',
    startedAt,
    finishedAt: new Date().toISOString(),
    machine,
    options: c,
    relays,
    versions,
    skipped,
    runs,
    figures: figures(runs, relays),
  };
}

function emptyResult(workload: Workload, error: string): BenchResult {
  return {
    workload,
    target: { host: '127.0.0.1', port: 0 },
    startedAt: new Date().toISOString(),
    options: {},
    workers: { mode: 'threads', count: 0 },
    warnings: [],
    errors: [error],
  };
}

/**
 * Whether a run's figures count: one that ended with an error measured less than was asked
 * (fewer pairs or connections, a relay that died) or nothing at all (a summary of zeros), and must
 * not enter a mean next to whole runs. The report lists its errors.
 */
function counts(r: BenchResult): boolean {
  return r.errors.length === 0 && (r.throughput ?? r.latency ?? r.connect) !== undefined;
}

export function figures(runs: CompareRun[], relays: RelayName[]): Figure[] {
  const out: Figure[] = [];
  const boxes = runs.map((r) => r.result.server?.boxCost).filter((b) => b !== undefined);
  const context: FigureContext = { fastestBoxUs: boxes.length > 0 ? Math.min(...boxes.map((b) => b.sealUs + b.openUs)) : undefined };
  for (const def of FIGURES) {
    const mine = runs.filter((r) => r.workload === def.workload);
    if (mine.length === 0) continue;
    const f: Figure = { id: def.id, workload: def.workload, title: def.title, unit: def.unit, better: def.better, values: {}, mean: {} };
    for (const relay of relays) {
      const values = mine
        .filter((r) => r.relay === relay && counts(r.result))
        .map((r) => def.get(r.result, context))
        .filter((v): v is number => v !== undefined && Number.isFinite(v));
      if (values.length === 0) continue;
      f.values[relay] = values;
      f.mean[relay] = mean(values);
    }
    const a = f.mean.toxrelay;
    const b = f.mean['tox-bootstrapd'];
    if (!def.noRatio && a !== undefined && b !== undefined && b !== 0) f.ratio = a / b;
    if (Object.keys(f.values).length > 0) out.push(f);
  }
  return out;
}
