// The bench's own CPU over a measured window, from its workers' samples, and whether the bench
// rather than the relay was the limit. A latency worker polls rather than sleeps; the CPU it spent
// polling with nothing to do is not work, so it is left out of the workers' busy share and the
// machine's, and reported on its own.

import type { CpuSample } from './messages.ts';
import type { PoolMode } from './pool.ts';
import { busyShare, type SystemCpu } from './proc.ts';
import { round } from './stats.ts';

/** A worker whose CPU time reached this share of the wall time was the bottleneck. */
export const BUSY_LIMIT = 0.9;

export interface BenchCpu {
  /** The measured window (connect: the opening phase). */
  wallS: number;
  /** CPU time of the bench's process(es) in the window: coordinator, workers, GC threads; polling included. */
  benchS: number;
  /** Each worker's CPU in the window: its thread (threads) or its process (processes), less polling. */
  perWorkerS: number[];
  /** Latency: the workers' CPU spent polling with nothing to do, left out of perWorkerS and machineBusy. */
  pollingS?: number;
  /** Each worker's event-loop utilisation in the window. */
  perWorkerElu: number[];
  /** Sum of the workers' CPU / (workers × window). */
  utilization: number;
  maxWorkerUtilization: number;
  /** The bench, not the relay, was probably the limit. */
  limited: boolean;
  /** The whole machine's CPU busy share in the window (bench, relay and everything else), less polling. */
  machineBusy?: number;
}

export interface BenchCpuInputs {
  samples: readonly CpuSample[];
  mode: PoolMode;
  windowS: number;
  /** CPU seconds of the coordinator's process in the window (with thread workers, theirs too). */
  coordinatorS: number;
  machineFrom?: SystemCpu;
  machineTo?: SystemCpu;
  /** Report pollingS (latency runs). */
  polls: boolean;
}

export function benchCpu(i: BenchCpuInputs): BenchCpu {
  const ownS = i.samples.map((s) => (i.mode === 'processes' ? s.processS : s.threadS ?? s.elu * s.wallS));
  // Polling turns are timed by the wall clock; the share of it the worker spent waiting for a CPU was not CPU.
  const pollingS = i.samples.map((s, k) => (s.pollingS && s.wallS > 0 ? s.pollingS * Math.min(1, ownS[k]! / s.wallS) : 0));
  const totalPollingS = pollingS.reduce((a, b) => a + b, 0);
  const perWorkerS = ownS.map((s, k) => Math.max(0, s - pollingS[k]!));
  const workersS = perWorkerS.reduce((a, b) => a + b, 0);
  // Worker processes are not in the coordinator's process CPU; their whole CPU, polling too, is added.
  const benchS = i.coordinatorS + (i.mode === 'processes' ? ownS.reduce((a, b) => a + b, 0) : 0);
  const utilization = workersS / (Math.max(1, i.samples.length) * i.windowS);
  const maxWorkerUtilization = Math.max(0, ...perWorkerS.map((s, k) => s / (i.samples[k]!.wallS || i.windowS)));
  const machineBusy = busyShare(i.machineFrom, i.machineTo, totalPollingS);
  return {
    wallS: round(i.windowS, 3),
    benchS: round(benchS, 3),
    perWorkerS: perWorkerS.map((s) => round(s, 3)),
    ...(i.polls ? { pollingS: round(totalPollingS, 3) } : {}),
    perWorkerElu: i.samples.map((s) => round(s.elu, 3)),
    utilization: round(utilization, 3),
    maxWorkerUtilization: round(maxWorkerUtilization, 3),
    limited: utilization >= BUSY_LIMIT,
    ...(machineBusy === undefined ? {} : { machineBusy: round(machineBusy, 3) }),
  };
}
