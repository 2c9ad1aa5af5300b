// What a bench run is asked to do, with every default and limit in one place.

import { availableParallelism } from 'node:os';
import { isLoopback } from '../loopback.ts';

export const WORKLOADS = ['throughput', 'latency', 'connect'] as const;
export type Workload = (typeof WORKLOADS)[number];

export function isWorkload(word: string): word is Workload {
  return (WORKLOADS as readonly string[]).includes(word);
}

/** The relay under test. */
export interface Target {
  host: string;
  port: number;
  /** The relay's long-term public key, 64 hex digits. */
  keyHex: string;
}

export interface BenchOptions extends Target {
  workload: Workload;
  /** Client pairs (throughput, latency). */
  pairs: number;
  /** Payload bytes of each data packet (after the conn_id byte). */
  size: number;
  /** Throughput: data packets one side may have in flight (sent, not yet acknowledged). */
  window: number;
  durationS: number;
  warmupS: number;
  /** Connect: connections to open, and how many may be opening at once. */
  connections: number;
  concurrency: number;
  /** Connect: seconds all connections are held open, idle, before the server's memory is read. */
  holdS: number;
  /** The relay's PID: its RSS (and CPU time) are read from /proc. */
  serverPid?: number;
  /** Worker threads (0: run the clients in the calling thread, for debugging). */
  threads: number;
  /** Worker processes instead of threads; 0 = threads, unless the sockets need more fds than one process has. */
  processes: number;
  /**
   * Sockets per loopback source address (127.0.x.y), so that a relay's per-address cap (toxrelay:
   * 64) does not refuse the bench; 0 = let the kernel pick the source (127.0.0.1).
   */
  perSource: number;
  /** A pair with no progress for this long is reported as stalled (PROTOCOL §13). */
  stallS: number;
  /** Hard limit of each set-up phase (connecting, linking, opening C connections, collecting results). */
  timeoutS: number;
  /** Allow a target that is not a loopback address. */
  allowRemote: boolean;
}

export const BENCH_DEFAULTS = {
  host: '127.0.0.1',
  throughputPairs: 100,
  latencyPairs: 1,
  size: 1024,
  window: 32,
  durationS: 10,
  warmupS: 2,
  connections: 1000,
  /**
   * `--compare`'s connections: the count the memory target is stated for. At 1,000 toxrelay's
   * one-time heap set-up (V8 touches its 32 MiB young generation once, as it first fills) adds
   * ~14 KB per connection to the RSS growth; at 10,000 it is spread thin.
   */
  compareConnections: 10_000,
  concurrency: 128,
  holdS: 2,
  processes: 0,
  perSource: 32,
  stallS: 5,
  timeoutS: 60,
} as const;

/** Upper bounds of the flags: every loop the bench runs is bounded by these. */
export const BENCH_LIMITS = {
  pairs: 10_000,
  connections: 200_000,
  concurrency: 10_000,
  window: 4096,
  durationS: 3600,
  warmupS: 600,
  holdS: 600,
  threads: 256,
  processes: 256,
  stallS: 600,
  timeoutS: 3600,
} as const;

/**
 * Sockets one worker process may hold: the fd limit here is 20,000 per process, shared by its
 * threads, and 5,000 are left for everything else a process opens.
 */
export const SOCKETS_PER_PROCESS = 15_000;
/**
 * Above this many sockets in all, the bench switches from threads to processes by itself. Not
 * lower: extra worker processes compete with a relay on the same machine for its CPUs.
 */
export const AUTO_PROCESSES_ABOVE = SOCKETS_PER_PROCESS;

/**
 * Bench workers by default: one per CPU, less one when the relay runs on this machine (a loopback
 * target), since the relays measured relay on one thread. A bench thread that competes with the
 * relay for a CPU costs both: on 2 vCPUs one worker beat two by 8-21 % in packets/s, 21-37 % in
 * handshakes/s, and gave a lower RTT p99 (docs/PERFORMANCE.md).
 */
export function defaultThreads(host: string = BENCH_DEFAULTS.host, cpus: number = availableParallelism()): number {
  return Math.max(1, isLoopback(host) ? cpus - 1 : cpus);
}

/**
 * Whether the bench can spread its sockets over source addresses for this target: an IPv4
 * loopback target can be reached from any 127.0.x.y; IPv6 has one loopback address, and a name
 * (localhost) may resolve to either family.
 */
export function spreadsSources(host: string): boolean {
  return /^127\./.test(host);
}

export { isLoopback };

/** Everything but the target, workload and pairs default: what a caller may leave out. */
export function benchOptions(partial: Partial<BenchOptions> & Target & { workload: Workload }): BenchOptions {
  return {
    pairs: partial.workload === 'latency' ? BENCH_DEFAULTS.latencyPairs : BENCH_DEFAULTS.throughputPairs,
    size: BENCH_DEFAULTS.size,
    window: BENCH_DEFAULTS.window,
    durationS: BENCH_DEFAULTS.durationS,
    warmupS: BENCH_DEFAULTS.warmupS,
    connections: BENCH_DEFAULTS.connections,
    concurrency: BENCH_DEFAULTS.concurrency,
    holdS: BENCH_DEFAULTS.holdS,
    threads: defaultThreads(partial.host),
    processes: BENCH_DEFAULTS.processes,
    perSource: BENCH_DEFAULTS.perSource,
    stallS: BENCH_DEFAULTS.stallS,
    timeoutS: BENCH_DEFAULTS.timeoutS,
    allowRemote: false,
    ...partial,
  };
}
