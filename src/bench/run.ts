// The coordinator of one bench run: it plans the workers, drives them through the phases
// (set-up → go → warm-up → mark → window → stop → result), samples the server and the CPU
// between phases, and merges the workers' results into one BenchResult. Every phase has a
// deadline; a worker that misses one is dropped and named in `errors`.

import { performance } from 'node:perf_hooks';
import { type BenchCpu, benchCpu } from './bench-cpu.ts';
import { type BoxCost, measureBoxCost } from './box-cost.ts';
import { judge } from './findings.ts';
import type { ConnectWorkerResult, LatencyWorkerResult, PairOutcome, Progress, ThroughputWorkerResult, WorkerJob, WorkerResult } from './messages.ts';
import {
  AUTO_PROCESSES_ABOVE,
  BENCH_LIMITS,
  type BenchOptions,
  isLoopback,
  SOCKETS_PER_PROCESS,
  type Workload,
} from './options.ts';
import { MAX_PAYLOAD_SIZE, MIN_PAYLOAD_SIZE } from './payload.ts';
import { DRAIN_MS } from './throughput.ts';
import { type PoolMode, startWorkers, type WorkerHandle } from './pool.ts';
import { type MemoryStatus, pidAlive, pidCpuSeconds, pidMemory, processCpuSeconds, systemCpu } from './proc.ts';
import { ascending, mean, mergeCounts, percentile, round, type Spread, spread } from './stats.ts';

const HELLO_TIMEOUT_MS = 30_000;
/** A step inside a worker (one connect, handshake, link or ping) never waits longer. */
const MAX_STEP_MS = 10_000;
/**
 * After stop, what a worker may take beyond --timeout to send its result: a throughput worker
 * drains in-flight packets for up to DRAIN_MS, and its result must not be lost to a short --timeout.
 */
const RESULT_GRACE_MS = DRAIN_MS + 2000;
const PROGRESS_MS = 250;

export type Phase = 'starting' | 'setup' | 'warmup' | 'measure' | 'drain' | 'opening' | 'hold' | 'verify';

export interface ProgressView {
  workload: Workload;
  phase: Phase;
  /** Seconds into the phase, and its planned length (undefined when it ends on an event). */
  phaseS: number;
  phaseTotalS: number | undefined;
  /** Counters of all workers so far. */
  totals: Progress;
  /** Data packets (throughput) or round trips (latency) per second since the last view. */
  rate: number;
  /** Pairs or connections to set up in all. */
  units: number;
}

export interface BenchHooks {
  onProgress?(view: ProgressView): void;
}

export interface ThroughputSummary extends PairOutcome {
  windowS: number;
  /** Data packets relayed (and received, checksum good) in the window, and per second. */
  packets: number;
  packetsPerS: number;
  payloadBytes: number;
  megabytesPerS: number;
  /** Packets per second of each working pair, both directions together. */
  perPairPerS: Spread | undefined;
  sent: number;
  received: number;
  lost: number;
  lossRatio: number;
  outOfOrder: number;
  corrupt: number;
  unresolved: number;
  acks: number;
  probes: number;
}

export interface LatencySummary extends PairOutcome {
  windowS: number;
  count: number;
  roundTripsPerS: number;
  minUs: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  maxUs: number;
  meanUs: number;
  /** Samples beyond what the workers keep (percentiles are over the kept ones). */
  dropped: number;
  timeouts: number;
  corrupt: number;
}

export interface ConnectSummary {
  requested: number;
  ok: number;
  failed: number;
  failures: Record<string, number>;
  /** From go until the last connection opened or failed. */
  seconds: number;
  handshakesPerS: number;
  openMs: { p50: number; p90: number; p99: number; max: number } | undefined;
  /** Held connections that answered a ping after the hold, of those checked. */
  alive: number;
  checked: number;
  /** Connections opened and closed before the measured ones, to warm the relay up (not counted). */
  warmedUp: number;
}

export interface ServerSummary {
  pid: number;
  /** RSS before the load, and after it (connect: with every connection held). */
  before?: MemoryStatus;
  after?: MemoryStatus;
  /** Connect: (RSS after − RSS before) / connections held. */
  bytesPerConnection?: number;
  /** CPU time of the server in the measured window (throughput, latency) or opening phase. */
  cpuS?: number;
  /** cpuS / window: 1.0 is one core fully busy. */
  cpuShare?: number;
  /** Throughput: server CPU µs per relayed packet. */
  cpuUsPerPacket?: number;
  /** Throughput: libsodium.js's seal + open of one such packet, timed by the bench before the load. */
  boxCost?: BoxCost;
  /** cpuUsPerPacket ÷ (boxCost.sealUs + boxCost.openUs): the relay's cost beyond its crypto. */
  cpuPerBoxOps?: number;
  alive: boolean;
}

export interface BenchResult {
  workload: Workload;
  target: { host: string; port: number };
  startedAt: string;
  options: Record<string, number>;
  workers: { mode: PoolMode; count: number };
  throughput?: ThroughputSummary;
  latency?: LatencySummary;
  connect?: ConnectSummary;
  server?: ServerSummary;
  cpu?: BenchCpu;
  warnings: string[];
  errors: string[];
}

export class BenchOptionError extends Error {
  override name = 'BenchOptionError';
}

/** Throws BenchOptionError for options the bench will not run with. */
export function checkOptions(o: BenchOptions): void {
  const bad = (m: string) => {
    throw new BenchOptionError(m);
  };
  const whole = (name: string, v: number, min: number, max: number) => {
    if (!Number.isInteger(v) || v < min || v > max) bad(`${name} must be a whole number ${min}..${max}, got ${v}`);
  };
  const seconds = (name: string, v: number, min: number, max: number) => {
    if (!Number.isFinite(v) || v < min || v > max) bad(`${name} must be ${min}..${max} seconds, got ${v}`);
  };
  if (!o.allowRemote && !isLoopback(o.host)) bad(`--host ${o.host} is not a loopback address (pass --allow-remote to load another machine)`);
  whole('port', o.port, 1, 65535);
  if (!/^[0-9a-fA-F]{64}$/.test(o.keyHex)) bad('the relay key must be 64 hex digits');
  whole('pairs', o.pairs, 1, BENCH_LIMITS.pairs);
  whole('size', o.size, MIN_PAYLOAD_SIZE, MAX_PAYLOAD_SIZE);
  whole('window', o.window, 1, BENCH_LIMITS.window);
  seconds('duration', o.durationS, 0.1, BENCH_LIMITS.durationS);
  seconds('warmup', o.warmupS, 0, BENCH_LIMITS.warmupS);
  whole('connections', o.connections, 1, BENCH_LIMITS.connections);
  whole('concurrency', o.concurrency, 1, BENCH_LIMITS.concurrency);
  seconds('hold', o.holdS, 0, BENCH_LIMITS.holdS);
  whole('threads', o.threads, 0, BENCH_LIMITS.threads);
  whole('processes', o.processes, 0, BENCH_LIMITS.processes);
  whole('per-source', o.perSource, 0, 65535);
  seconds('stall', o.stallS, 0.1, BENCH_LIMITS.stallS);
  seconds('timeout', o.timeoutS, 1, BENCH_LIMITS.timeoutS);
  if (o.serverPid !== undefined) whole('server-pid', o.serverPid, 1, 2 ** 31 - 1);
}

interface Plan {
  mode: PoolMode;
  shares: number[];
  note?: string;
}

/** How many workers of which kind, and each one's share of the pairs or connections. */
export function planWorkers(o: BenchOptions): Plan {
  const units = o.workload === 'connect' ? o.connections : o.pairs;
  const sockets = o.workload === 'connect' ? o.connections : 2 * o.pairs;
  const needProcesses = Math.ceil(sockets / SOCKETS_PER_PROCESS);
  let mode: PoolMode;
  let count: number;
  let note: string | undefined;
  if (o.processes > 0) {
    mode = 'processes';
    count = Math.max(o.processes, needProcesses);
  } else if (sockets > AUTO_PROCESSES_ABOVE) {
    mode = 'processes';
    count = Math.max(o.threads, needProcesses);
    note = `${sockets} sockets: using ${count} worker processes instead of threads (threads share one process's file descriptors)`;
  } else if (o.threads === 0) {
    mode = 'inline';
    count = 1;
  } else {
    mode = 'threads';
    count = o.threads;
  }
  count = Math.max(1, Math.min(count, units));
  const shares = Array.from({ length: count }, (_, i) => Math.floor(units / count) + (i < units % count ? 1 : 0));
  return note === undefined ? { mode, shares } : { mode, shares, note };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `fn` on every handle; returns those that succeeded, records and closes the others. */
async function everyWorker<T>(handles: WorkerHandle[], errors: string[], fn: (h: WorkerHandle) => Promise<T>): Promise<Array<{ h: WorkerHandle; value: T }>> {
  const settled = await Promise.allSettled(handles.map(fn));
  const ok: Array<{ h: WorkerHandle; value: T }> = [];
  await Promise.all(
    settled.map(async (s, i) => {
      const h = handles[i]!;
      if (s.status === 'fulfilled') ok.push({ h, value: s.value });
      else {
        errors.push((s.reason as Error).message);
        await h.close(0);
      }
    }),
  );
  return ok.sort((a, b) => a.h.index - b.h.index);
}

export async function runBench(o: BenchOptions, hooks: BenchHooks = {}): Promise<BenchResult> {
  checkOptions(o);
  const plan = planWorkers(o);
  const result: BenchResult = {
    workload: o.workload,
    target: { host: o.host, port: o.port },
    startedAt: new Date().toISOString(),
    options: optionsOf(o),
    workers: { mode: plan.mode, count: plan.shares.length },
    warnings: plan.note ? [plan.note] : [],
    errors: [],
  };
  if (o.serverPid !== undefined && !pidAlive(o.serverPid)) {
    result.errors.push(`--server-pid ${o.serverPid}: there is no such process`);
    return result;
  }
  const timeoutMs = o.timeoutS * 1000;
  const stepTimeoutMs = Math.min(MAX_STEP_MS, timeoutMs);

  // ---- progress ----
  let phase: Phase = 'starting';
  let phaseStart = performance.now();
  let phaseTotalS: number | undefined;
  let handles: WorkerHandle[] = [];
  const units = o.workload === 'connect' ? o.connections : o.pairs;
  /** (time, rx) samples of the last second or so, for a steady rate. */
  const history: Array<[number, number]> = [];
  let rate = 0;
  const totals = (): Progress => {
    const t: Progress = { rx: 0, rxBytes: 0, lost: 0, corrupt: 0, stalled: 0, opened: 0, failed: 0 };
    for (const h of handles) {
      const p = h.progress;
      if (!p) continue;
      for (const k of Object.keys(t) as Array<keyof Progress>) t[k] += p[k];
    }
    return t;
  };
  const view = () => {
    if (!hooks.onProgress) return;
    const now = performance.now();
    hooks.onProgress({ workload: o.workload, phase, phaseS: (now - phaseStart) / 1000, phaseTotalS, totals: totals(), rate, units });
  };
  const setPhase = (p: Phase, totalS?: number) => {
    phase = p;
    phaseStart = performance.now();
    phaseTotalS = totalS;
    view();
  };
  const tick = () => {
    const now = performance.now();
    history.push([now, totals().rx]);
    while (history.length > 2 && now - history[1]![0] >= 1000) history.shift();
    const [t0, rx0] = history[0]!;
    const [t1, rx1] = history[history.length - 1]!;
    rate = t1 > t0 ? ((rx1 - rx0) * 1000) / (t1 - t0) : 0;
    view();
  };
  const ticker = setInterval(tick, PROGRESS_MS);

  try {
    setPhase('starting');
    // Timed first, while the machine is still quiet: a data packet's plaintext is its conn_id
    // and the payload (PROTOCOL §5.2).
    const boxCost = o.workload === 'throughput' && o.serverPid !== undefined ? await measureBoxCost(1 + o.size) : undefined;
    handles = await startWorkers(plan.mode, plan.shares.length, HELLO_TIMEOUT_MS);

    // ---- set-up ----
    setPhase('setup');
    let firstUnit = 0;
    for (const h of handles) {
      const count = plan.shares[h.index]!;
      const job: WorkerJob = {
        workload: o.workload,
        index: h.index,
        target: { host: o.host, port: o.port, keyHex: o.keyHex },
        count,
        firstSocket: o.workload === 'connect' ? firstUnit : 2 * firstUnit,
        perSource: o.perSource,
        size: o.size,
        window: o.window,
        concurrency: Math.max(1, Math.round((o.concurrency * count) / o.connections)),
        stallMs: o.stallS * 1000,
        stepTimeoutMs,
        // The worker gives up a little before the coordinator stops waiting, so its counts arrive.
        phaseTimeoutMs: Math.max(500, timeoutMs - Math.min(5000, timeoutMs / 4)),
        warmupMs: o.warmupS * 1000,
      };
      firstUnit += count;
      h.send({ t: 'job', job });
    }
    handles = (await everyWorker(handles, result.errors, (h) => h.next('ready', timeoutMs))).map((x) => x.h);
    if (handles.length === 0) return result;

    const server = o.serverPid;
    const serverBefore = server === undefined ? undefined : pidMemory(server);
    let cpuFrom = { wall: 0, bench: 0, server: undefined as number | undefined, machine: systemCpu() };
    const markCpu = () => {
      cpuFrom = { wall: performance.now(), bench: processCpuSeconds(), server: server === undefined ? undefined : pidCpuSeconds(server), machine: systemCpu() };
    };
    let workerResults: WorkerResult[];
    let windowS: number;
    let cpuTo: typeof cpuFrom;

    if (o.workload === 'connect') {
      // ---- opening, hold, verify ----
      setPhase('opening');
      markCpu();
      for (const h of handles) h.send({ t: 'go' });
      const opened = await everyWorker(handles, result.errors, (h) => h.next('opened', timeoutMs));
      windowS = (performance.now() - cpuFrom.wall) / 1000;
      cpuTo = { wall: performance.now(), bench: processCpuSeconds(), server: server === undefined ? undefined : pidCpuSeconds(server), machine: systemCpu() };
      handles = opened.map((x) => x.h);
      setPhase('hold', o.holdS);
      await sleep(o.holdS * 1000);
      const serverAfter = server === undefined ? undefined : pidMemory(server);
      setPhase('verify');
      for (const h of handles) h.send({ t: 'stop' });
      workerResults = (await everyWorker(handles, result.errors, (h) => h.next('result', timeoutMs + RESULT_GRACE_MS))).map((x) => x.value.result);
      if (workerResults.length === 0) return result; // the errors say why
      result.connect = mergeConnect(workerResults as ConnectWorkerResult[], windowS);
      if (server !== undefined) {
        result.server = serverSummary(server, serverBefore, serverAfter, cpuFrom.server, cpuTo.server, windowS);
        if (serverBefore && serverAfter && result.connect.ok > 0) {
          result.server.bytesPerConnection = Math.round(((serverAfter.rssKiB - serverBefore.rssKiB) * 1024) / result.connect.ok);
        }
      }
    } else {
      // ---- go, warm-up, window, stop (at once when no pair is up: the results say why) ----
      const idle = totals().opened === 0;
      for (const h of handles) h.send({ t: 'go' });
      setPhase('warmup', o.warmupS);
      if (!idle) await sleep(o.warmupS * 1000);
      for (const h of handles) h.send({ t: 'mark' });
      markCpu();
      setPhase('measure', o.durationS);
      if (!idle) await sleep(o.durationS * 1000);
      for (const h of handles) h.send({ t: 'stop' });
      windowS = (performance.now() - cpuFrom.wall) / 1000;
      cpuTo = { wall: performance.now(), bench: processCpuSeconds(), server: server === undefined ? undefined : pidCpuSeconds(server), machine: systemCpu() };
      setPhase('drain');
      workerResults = (await everyWorker(handles, result.errors, (h) => h.next('result', timeoutMs + RESULT_GRACE_MS))).map((x) => x.value.result);
      if (workerResults.length === 0) return result; // the errors say why
      const serverAfter = server === undefined ? undefined : pidMemory(server);
      if (o.workload === 'throughput') result.throughput = mergeThroughput(workerResults as ThroughputWorkerResult[], windowS);
      else result.latency = mergeLatency(workerResults as LatencyWorkerResult[], windowS);
      if (server !== undefined) {
        result.server = serverSummary(server, serverBefore, serverAfter, cpuFrom.server, cpuTo.server, windowS);
        if (result.throughput && result.server.cpuS !== undefined && result.throughput.packets > 0) {
          result.server.cpuUsPerPacket = round((result.server.cpuS * 1e6) / result.throughput.packets, 2);
          if (boxCost) {
            result.server.boxCost = boxCost;
            result.server.cpuPerBoxOps = round(result.server.cpuUsPerPacket / (boxCost.sealUs + boxCost.openUs), 3);
          }
        }
      }
    }

    // ---- the bench's own CPU ----
    result.cpu = benchCpu({
      samples: workerResults.map((r) => r.cpu),
      mode: plan.mode,
      windowS,
      coordinatorS: cpuTo.bench - cpuFrom.bench,
      ...(cpuFrom.machine ? { machineFrom: cpuFrom.machine } : {}),
      ...(cpuTo.machine ? { machineTo: cpuTo.machine } : {}),
      polls: result.latency !== undefined,
    });
    judge(result, o, windowS);
    return result;
  } catch (error) {
    result.errors.push((error as Error).message);
    return result;
  } finally {
    clearInterval(ticker);
    await Promise.all(handles.map((h) => h.close()));
  }
}

function optionsOf(o: BenchOptions): Record<string, number> {
  const common = { threads: o.threads, processes: o.processes, perSource: o.perSource, stallS: o.stallS, timeoutS: o.timeoutS };
  if (o.workload === 'connect') return { connections: o.connections, concurrency: o.concurrency, holdS: o.holdS, ...common };
  const base = { pairs: o.pairs, size: o.size, durationS: o.durationS, warmupS: o.warmupS, ...common };
  return o.workload === 'throughput' ? { ...base, window: o.window } : base;
}

function serverSummary(
  pid: number,
  before: MemoryStatus | undefined,
  after: MemoryStatus | undefined,
  cpuFrom: number | undefined,
  cpuTo: number | undefined,
  windowS: number,
): ServerSummary {
  const s: ServerSummary = { pid, alive: after !== undefined };
  if (before) s.before = before;
  if (after) s.after = after;
  if (cpuFrom !== undefined && cpuTo !== undefined) {
    s.cpuS = round(cpuTo - cpuFrom, 3);
    s.cpuShare = round((cpuTo - cpuFrom) / windowS, 3);
  }
  return s;
}

export function mergeThroughput(rs: ThroughputWorkerResult[], windowS: number): ThroughputSummary {
  const sum = (f: (r: ThroughputWorkerResult) => number) => rs.reduce((a, r) => a + f(r), 0);
  const packets = sum((r) => r.windowPackets);
  const payloadBytes = sum((r) => r.windowBytes);
  const sent = sum((r) => r.sent);
  const lost = sum((r) => r.lost);
  const perPair = rs.flatMap((r) => r.perPair.map((n) => n / (r.windowS || windowS)));
  const pp = spread(perPair);
  return {
    ...mergePairOutcomes(rs),
    windowS: round(windowS, 3),
    packets,
    packetsPerS: round(packets / windowS),
    payloadBytes,
    megabytesPerS: round(payloadBytes / windowS / 1e6, 3),
    perPairPerS: pp && { min: round(pp.min), median: round(pp.median), max: round(pp.max) },
    sent,
    received: sum((r) => r.received),
    lost,
    lossRatio: sent === 0 ? 0 : lost / sent,
    outOfOrder: sum((r) => r.outOfOrder),
    corrupt: sum((r) => r.corrupt),
    unresolved: sum((r) => r.unresolved),
    acks: sum((r) => r.acks),
    probes: sum((r) => r.probes),
  };
}

export function mergeLatency(rs: LatencyWorkerResult[], windowS: number): LatencySummary {
  const sum = (f: (r: LatencyWorkerResult) => number) => rs.reduce((a, r) => a + f(r), 0);
  const sorted = ascending(rs.flatMap((r) => r.samplesUs));
  const count = sorted.length + sum((r) => r.dropped);
  const us = (x: number) => round(x, 1);
  return {
    ...mergePairOutcomes(rs),
    windowS: round(windowS, 3),
    count,
    roundTripsPerS: round(count / windowS),
    minUs: us(sorted[0] ?? NaN),
    p50Us: us(percentile(sorted, 50)),
    p90Us: us(percentile(sorted, 90)),
    p99Us: us(percentile(sorted, 99)),
    maxUs: us(sorted[sorted.length - 1] ?? NaN),
    meanUs: us(mean(Array.from(sorted))),
    dropped: sum((r) => r.dropped),
    timeouts: sum((r) => r.timeouts),
    corrupt: sum((r) => r.corrupt),
  };
}

/** The workers' pair outcomes as one (stalls listed: at most 50, as each worker's). */
function mergePairOutcomes(rs: PairOutcome[]): PairOutcome {
  const sum = (f: (r: PairOutcome) => number) => rs.reduce((a, r) => a + f(r), 0);
  return {
    pairs: sum((r) => r.pairs),
    failedPairs: sum((r) => r.failedPairs),
    setupErrors: mergeCounts(rs.map((r) => r.setupErrors)),
    closedPairs: sum((r) => r.closedPairs),
    stalledPairs: sum((r) => r.stalledPairs),
    stalls: rs.flatMap((r) => r.stalls).slice(0, 50),
  };
}

export function mergeConnect(rs: ConnectWorkerResult[], seconds: number): ConnectSummary {
  const sum = (f: (r: ConnectWorkerResult) => number) => rs.reduce((a, r) => a + f(r), 0);
  const sorted = ascending(rs.flatMap((r) => r.openMs));
  const ok = sum((r) => r.ok);
  const ms = (x: number) => round(x, 2);
  return {
    requested: sum((r) => r.requested),
    ok,
    failed: sum((r) => r.failed),
    failures: mergeCounts(rs.map((r) => r.failures)),
    seconds: round(seconds, 3),
    handshakesPerS: round(ok / seconds),
    openMs:
      sorted.length === 0
        ? undefined
        : { p50: ms(percentile(sorted, 50)), p90: ms(percentile(sorted, 90)), p99: ms(percentile(sorted, 99)), max: ms(sorted[sorted.length - 1]!) },
    alive: sum((r) => r.alive),
    checked: sum((r) => r.checked),
    warmedUp: sum((r) => r.warmedUp),
  };
}
