// The abuse results as a Markdown table: one row per scenario, one column group per relay.

import type { ScenarioResult } from './scenarios.ts';

const mib = (kib: number | undefined) => (kib === undefined ? '?' : (kib / 1024).toFixed(1));

function cell(r: ScenarioResult | undefined): string[] {
  if (!r) return ['—', '—', '—', '—'];
  const s = r.server;
  const rss = `${mib(s.beforeKiB)} / ${mib(s.peakKiB)} / ${mib(s.afterKiB)}`;
  const rtt = r.rtt
    ? `${r.rtt.p50Ms ?? '?'} / ${r.rtt.p99Ms ?? '?'} (${r.rtt.samples}${r.rtt.timeouts ? `, ${r.rtt.timeouts} lost` : ''}${r.rtt.closed ? ', CLOSED' : ''})`
    : 'no pair';
  const counts = Object.entries(r.counts)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  return [`${r.ok ? 'ok' : 'FAIL'}: ${r.verdict}`, rss, rtt, counts];
}

export function formatTable(results: Record<string, ScenarioResult[]>): string {
  const lines: string[] = [];
  for (const [relay, rows] of Object.entries(results)) {
    lines.push(`\n### ${relay}\n`);
    lines.push('| scenario | verdict | server RSS MiB before / peak / after | legit RTT ms p50 / p99 (samples) | fds before/peak/after | counts |');
    lines.push('|---|---|---|---|---|---|');
    for (const r of rows) {
      const [v, rss, rtt, counts] = cell(r);
      const f = r.server;
      lines.push(`| ${r.scenario} (${r.seconds} s) | ${v} | ${rss} | ${rtt} | ${f.fdsBefore ?? '?'}/${f.fdsPeak ?? '?'}/${f.fdsAfter ?? '?'} | ${counts} |`);
    }
  }
  return lines.join('\n');
}
