// What the coordinator and its workers (threads or processes) tell each other. Plain data only,
// so the same messages cross a MessagePort, a child process's IPC channel, or stay in-process.
//
//   coordinator                     worker
//                 ◄── hello         (loaded)
//   job ──────────►                 connect and link the clients (pairs), or pre-generate keys
//                 ◄── ready
//   go ───────────►                 start sending (throughput, latency) or opening (connect)
//                 ◄── opened        (connect: every connection opened or failed)
//   mark ─────────►                 the measured window starts (after the warm-up)
//   stop ─────────►                 stop sending, drain, verify (connect)
//                 ◄── result
//   exit ─────────►                 close every socket, then exit
//   progress ◄──── every 250 ms from job to exit; error ◄── on a fatal error

import type { Target, Workload } from './options.ts';

export interface WorkerJob {
  workload: Workload;
  /** This worker's number, 0-based. */
  index: number;
  target: Target;
  /** Pairs (throughput, latency) or connections (connect) of this worker. */
  count: number;
  /** Global number of this worker's first socket: it picks the source addresses. */
  firstSocket: number;
  /** Sockets per loopback source address; 0: no source address. */
  perSource: number;
  size: number;
  window: number;
  /** Connect: connections of this worker opening at once. */
  concurrency: number;
  stallMs: number;
  /** Each connect, handshake, link and verification step gives up after this. */
  stepTimeoutMs: number;
  /** Set-up (pairs) or opening (connect) as a whole ends by then: what is not up counts as failed. */
  phaseTimeoutMs: number;
  /** Connect: the longest the warm-up (connections opened and closed before measuring) may take; 0: none. */
  warmupMs: number;
}

/** Counters so far, for the progress line. */
export interface Progress {
  /** Data packets received (throughput) or round trips (latency). */
  rx: number;
  rxBytes: number;
  lost: number;
  corrupt: number;
  /** Pairs without progress for the stall time, now. */
  stalled: number;
  /** Pairs or connections set up so far, and those that failed. */
  opened: number;
  failed: number;
}

/** A worker's CPU use over the measured window. */
export interface CpuSample {
  wallS: number;
  /** The worker's own JS thread (from /proc/thread-self), where known. */
  threadS?: number;
  /** The worker's whole process: meaningful for a worker process, not for a thread. */
  processS: number;
  /** Event-loop utilisation of the worker's thread (0..1): near 1, the worker never waited. */
  elu: number;
  /**
   * Latency: wall-clock time of the turns in which the worker polled with nothing to do (it polls
   * rather than sleeps). Not work: bench-cpu.ts turns it into CPU and leaves it out of the busy shares.
   */
  pollingS?: number;
}

/** How a workload's pairs fared: part of each worker's result and of the merged summary. */
export interface PairOutcome {
  pairs: number;
  failedPairs: number;
  setupErrors: Record<string, number>;
  /** Pairs whose connection the relay closed during the run. */
  closedPairs: number;
  stalledPairs: number;
  /** When each stalled pair (global number) first stalled, seconds after go; at most 50. */
  stalls: Array<{ pair: number; atS: number }>;
}

export interface ThroughputWorkerResult extends PairOutcome {
  kind: 'throughput';
  /** Seconds between this worker's mark and stop. */
  windowS: number;
  /** Data packets received per working pair (both directions) in the window. */
  perPair: number[];
  windowPackets: number;
  windowBytes: number;
  windowLost: number;
  /** Whole run (warm-up, window and drain). */
  sent: number;
  received: number;
  lost: number;
  outOfOrder: number;
  corrupt: number;
  /** Sent packets neither received nor known lost when the drain ended. */
  unresolved: number;
  acks: number;
  probes: number;
  cpu: CpuSample;
}

export interface LatencyWorkerResult extends PairOutcome {
  kind: 'latency';
  windowS: number;
  /** Round-trip times in the window, µs (at most MAX_SAMPLES per worker; `dropped` counts the rest). */
  samplesUs: number[];
  dropped: number;
  /** Pings not answered within the stall time (each is then replaced by a new one). */
  timeouts: number;
  corrupt: number;
  cpu: CpuSample;
}

export interface ConnectWorkerResult {
  kind: 'connect';
  requested: number;
  ok: number;
  failed: number;
  failures: Record<string, number>;
  /** Time of each successful open (TCP connect, handshake, confirming ping), ms. */
  openMs: number[];
  /** Held connections that still answered a ping after the hold, of `checked`. */
  alive: number;
  checked: number;
  /** Connections opened and closed again during the warm-up, before the measured ones. */
  warmedUp: number;
  cpu: CpuSample;
}

export type WorkerResult = ThroughputWorkerResult | LatencyWorkerResult | ConnectWorkerResult;

export type ToWorker = { t: 'job'; job: WorkerJob } | { t: 'go' } | { t: 'mark' } | { t: 'stop' } | { t: 'exit' };

export type FromWorker =
  /** youngGenerationBytes: the worker's V8 new space (src/young-generation.ts). */
  | { t: 'hello'; youngGenerationBytes: number }
  | { t: 'ready' }
  | { t: 'opened'; ok: number; failed: number }
  | { t: 'progress'; progress: Progress }
  | { t: 'result'; result: WorkerResult }
  | { t: 'error'; message: string };

/** Either end of a coordinator ↔ worker link. */
export interface Channel<In, Out> {
  send(message: Out): void;
  onMessage(handler: (message: In) => void): void;
  /** Ends the link (a worker then exits once its sockets are closed). */
  close(): void;
}
