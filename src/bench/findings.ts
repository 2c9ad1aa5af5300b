// What a finished run says about itself: warnings (the figures stand, read them with care) and
// errors (the figures do not measure what was asked: fewer pairs or connections than asked, a
// relay that corrupted, closed or lost connections, or died). Any error makes the run fail
// (exit status 1), so that a script can tell a partial run from a good one.

import { BUSY_LIMIT } from './bench-cpu.ts';
import { type BenchOptions, spreadsSources } from './options.ts';
import type { BenchResult } from './run.ts';

/** A window shorter than this says nothing about CPU shares (a run that ended at once). */
const MIN_CPU_WINDOW_S = 0.5;

/**
 * How a relay's refusal shows: the connection closed before or right after the hello, or reset
 * when the hello was already in the relay's receive buffer as it closed.
 */
const CLOSED_BY_RELAY = ['CLOSED', 'ECONNRESET', 'EPIPE'];

export function judge(r: BenchResult, o: BenchOptions, windowS: number): void {
  cpuFindings(r, windowS);
  const w = r.warnings;
  const e = r.errors;
  const outcome = r.throughput ?? r.latency;
  if (outcome) {
    if (outcome.pairs === 0) e.push(`no pair could be set up: ${describeCounts(outcome.setupErrors)}${setupHint(outcome.setupErrors, o, false)}`);
    else if (outcome.failedPairs > 0) e.push(`${outcome.failedPairs} of ${o.pairs} pair(s) failed to set up: ${describeCounts(outcome.setupErrors)}; the figures are for ${outcome.pairs}${setupHint(outcome.setupErrors, o, true)}`);
    if (outcome.closedPairs > 0) e.push(`the relay closed ${outcome.closedPairs} pair(s) during the run`);
    if (outcome.stalledPairs > 0) w.push(`${outcome.stalledPairs} pair(s) stalled (no progress for ${o.stallS} s); see PROTOCOL §13 for tox-bootstrapd on loopback`);
  }
  const t = r.throughput;
  if (t && t.corrupt > 0) e.push(`${t.corrupt} corrupt payload(s) received`);
  const l = r.latency;
  if (l) {
    if (l.timeouts > 0) w.push(`${l.timeouts} ping(s) not answered within ${o.stallS} s`);
    if (l.corrupt > 0) e.push(`${l.corrupt} corrupt payload(s) received`);
  }
  const k = r.connect;
  if (k) {
    if (k.ok === 0) e.push(`no connection could be opened: ${describeCounts(k.failures)}${setupHint(k.failures, o, false)}`);
    else if (k.failed > 0) e.push(`${k.failed} of ${o.connections} connection(s) failed: ${describeCounts(k.failures)}; the figures are for ${k.ok}${setupHint(k.failures, o, true)}`);
    if (k.alive < k.checked) e.push(`${k.checked - k.alive} held connection(s) no longer answered a ping after the hold`);
  }
  if (r.server && !r.server.alive) e.push(`the server (PID ${r.server.pid}) is gone`);
}

/** Why a relay may have closed connections at set-up, when nothing else explains it. */
function setupHint(counts: Record<string, number>, o: BenchOptions, someWorked: boolean): string {
  const closed = CLOSED_BY_RELAY.reduce((sum, code) => sum + (counts[code] ?? 0), 0);
  if (closed === 0) return '';
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const hints: string[] = [];
  if (closed === total && !someWorked) hints.push("a relay closes a connection whose hello it cannot open: is --key the relay's public key?");
  if (!spreadsSources(o.host) || o.perSource === 0) hints.push(`every socket came from one address, and a relay may cap connections per address (toxrelay: --max-per-ip, 64): with --host 127.0.0.1 and --per-source above 0 the bench spreads them over 127.0.x.y`);
  return hints.length === 0 ? '' : ` (${hints.join('; ')})`;
}

function cpuFindings(r: BenchResult, windowS: number): void {
  const c = r.cpu;
  if (!c || windowS < MIN_CPU_WINDOW_S) return;
  const w = r.warnings;
  const n = r.workers.count;
  const what = workerNoun(r.workers.mode, n);
  const machineFull = c.machineBusy !== undefined && c.machineBusy >= BUSY_LIMIT;
  if (c.limited && !machineFull) {
    w.push(`the bench used ${pct(c.utilization)} of its ${n} worker ${what}${what.endsWith('s') ? "'" : "'s"} CPU: the bench, not the relay, is probably the limit (try more --threads)`);
  } else if (!c.limited && !machineFull && c.maxWorkerUtilization >= BUSY_LIMIT) {
    w.push(`a bench worker was ${pct(c.maxWorkerUtilization)} busy: the load is uneven or too few workers`);
  }
  if (machineFull) {
    // More workers would only take CPU from the relay: on a full machine, advice to add some misleads.
    const also = c.limited ? `; the bench's ${n} worker ${what} ${n === 1 ? 'was' : 'were'} ${pct(c.utilization)} busy` : '';
    w.push(`the machine's CPUs were ${pct(c.machineBusy!)} busy: bench and relay competed for them, so the figures are the machine's limit${also}`);
  }
}

export function workerNoun(mode: BenchResult['workers']['mode'], count: number): string {
  if (mode === 'inline') return '(in-process)';
  const noun = mode === 'processes' ? 'process' : 'thread';
  return count === 1 ? noun : `${noun}${noun.endsWith('s') ? 'es' : 's'}`;
}

export function describeCounts(counts: Record<string, number>): string {
  return Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ×${v}`)
    .join(', ');
}

function pct(x: number): string {
  return `${Math.round(x * 100)} %`;
}
