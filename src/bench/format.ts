// A BenchResult as the table printed at the end of a run.

import type { BenchResult } from './run.ts';
import { describeCounts, workerNoun } from './findings.ts';

export function num(x: number | undefined, digits = 0): string {
  if (x === undefined || !Number.isFinite(x)) return '–';
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function mib(kib: number): string {
  return `${num(kib / 1024, 1)} MiB`;
}

function rows(lines: Array<[string, string]>): string {
  const width = Math.max(...lines.map(([k]) => k.length));
  return lines.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n');
}

export function formatResult(r: BenchResult): string {
  const o = r.options;
  const out: string[] = [];
  const workers = `${r.workers.count} worker ${workerNoun(r.workers.mode, r.workers.count)}`;
  const host = r.target.host.includes(':') ? `[${r.target.host}]` : r.target.host;
  out.push(`toxrelay bench: ${r.workload} → ${host}:${r.target.port}`);
  if (r.workload === 'connect') {
    out.push(`  ${num(o.connections)} connections, at most ${num(o.concurrency)} opening at once, held ${o.holdS} s; ${workers}`);
  } else {
    const window = r.workload === 'throughput' ? `, window ${o.window}` : '';
    out.push(`  ${num(o.pairs)} pair(s), ${o.size}-byte payloads${window}, ${o.durationS} s measured after ${o.warmupS} s warm-up; ${workers}`);
  }
  out.push('');
  const lines: Array<[string, string]> = [];
  const t = r.throughput;
  if (t) {
    lines.push(['relayed', `${num(t.packetsPerS)} packets/s (${num(t.packets)} in ${num(t.windowS, 2)} s)`]);
    lines.push(['payload', `${num(t.megabytesPerS, 2)} MB/s`]);
    if (t.perPairPerS) lines.push(['per pair', `${num(t.perPairPerS.min)} .. ${num(t.perPairPerS.max)} packets/s (median ${num(t.perPairPerS.median)})`]);
    lines.push(['loss', `${num(t.lost)} of ${num(t.sent)} sent in the whole run (${num(t.lossRatio * 100, 3)} %)${t.unresolved ? `, ${num(t.unresolved)} unresolved` : ''}`]);
    lines.push(['control', `${num(t.acks)} ACKs, ${num(t.probes)} probes (whole run; relayed too, not counted above)`]);
    lines.push(['corruption', num(t.corrupt)]);
    lines.push(['stalled pairs', t.stalledPairs === 0 ? '0' : `${t.stalledPairs} (first: ${t.stalls.slice(0, 5).map((s) => `#${s.pair} at ${s.atS} s`).join(', ')})`]);
    lines.push(['pairs', `${num(t.pairs)} working${t.failedPairs ? `, ${t.failedPairs} failed` : ''}${t.closedPairs ? `, ${t.closedPairs} closed by the relay` : ''}`]);
  }
  const l = r.latency;
  if (l) {
    lines.push(['round trips', `${num(l.count)} (${num(l.roundTripsPerS)}/s over ${num(l.pairs)} pair(s))`]);
    lines.push(['RTT p50', `${num(l.p50Us, 1)} µs`]);
    lines.push(['RTT p90', `${num(l.p90Us, 1)} µs`]);
    lines.push(['RTT p99', `${num(l.p99Us, 1)} µs`]);
    lines.push(['RTT max', `${num(l.maxUs, 1)} µs (min ${num(l.minUs, 1)}, mean ${num(l.meanUs, 1)})`]);
    lines.push(['timeouts', num(l.timeouts)]);
    lines.push(['corruption', num(l.corrupt)]);
    if (l.stalledPairs) lines.push(['stalled pairs', num(l.stalledPairs)]);
  }
  const k = r.connect;
  if (k) {
    lines.push(['handshakes', `${num(k.handshakesPerS)}/s (${num(k.ok)} of ${num(k.requested)} in ${num(k.seconds, 2)} s)`]);
    if (k.openMs) lines.push(['open time', `p50 ${num(k.openMs.p50, 1)} ms, p90 ${num(k.openMs.p90, 1)}, p99 ${num(k.openMs.p99, 1)}, max ${num(k.openMs.max, 1)}`]);
    lines.push(['failed', k.failed === 0 ? '0' : `${num(k.failed)} (${describeCounts(k.failures)})`]);
    lines.push(['alive after hold', `${num(k.alive)} of ${num(k.checked)}`]);
    if (k.warmedUp > 0) lines.push(['warm-up', `${num(k.warmedUp)} connections opened and closed before these`]);
  }
  const s = r.server;
  if (s) {
    if (s.before && s.after) {
      const per = s.bytesPerConnection === undefined ? '' : `: ${num(s.bytesPerConnection)} bytes per held connection`;
      lines.push(['relay memory', `RSS ${mib(s.before.rssKiB)} → ${mib(s.after.rssKiB)}${per}`]);
    }
    if (s.cpuS !== undefined) {
      const per = s.cpuUsPerPacket === undefined ? '' : `, ${num(s.cpuUsPerPacket, 2)} µs per packet`;
      lines.push(['relay CPU', `${num(s.cpuS, 2)} s (${num((s.cpuShare ?? 0) * 100)} % of a core)${per}`]);
      if (s.boxCost && s.cpuPerBoxOps !== undefined) {
        const box = s.boxCost.sealUs + s.boxCost.openUs;
        lines.push(['vs its crypto', `${num(s.cpuPerBoxOps, 2)}× the packet's seal + open (${num(box, 2)} µs in libsodium.js, timed before the load)`]);
      }
    }
  }
  const c = r.cpu;
  if (c) {
    const machine = c.machineBusy === undefined ? '' : `; machine ${num(c.machineBusy * 100)} % busy`;
    const polling = c.pollingS === undefined ? '' : ` (not counting ${num(c.pollingS, 2)} s polling idle)`;
    lines.push(['bench CPU', `${num(c.benchS, 2)} s in ${num(c.wallS, 2)} s; workers ${num(c.utilization * 100)} % busy${polling}${machine}`]);
  }
  if (lines.length > 0) out.push(rows(lines));
  for (const w of r.warnings) out.push(`warning: ${w}`);
  for (const e of r.errors) out.push(`error: ${e}`);
  return `${out.join('\n')}\n`;
}
