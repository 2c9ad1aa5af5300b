// A comparison's report: report.json (everything), report.html (self-contained, hand-made SVG
// bar charts: per figure both relays side by side with the ratio toxrelay / tox-bootstrapd, and a
// summary of all ratios), and the table printed on stdout.

import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { CompareReport, CompareRun, Figure } from './compare.ts';
import { num } from './format.ts';
import type { RelayName } from './relays.ts';

const COLORS: Record<RelayName, string> = { toxrelay: '#2b6cb0', 'tox-bootstrapd': '#c05621' };
const BETTER = '#2f855a';
const WORSE = '#c53030';

/** Makes the report's directory and proves it writable, or throws one line saying why not. */
export async function prepareOutDir(outDir: string): Promise<void> {
  const dir = resolve(outDir);
  const probe = join(dir, `.toxrelay-bench-${process.pid}`);
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(probe, '');
    await rm(probe);
  } catch (error) {
    throw new Error(`bench: --out ${outDir}: cannot write a report there (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

export async function writeReport(report: CompareReport, outDir: string): Promise<{ json: string; html: string }> {
  const dir = resolve(outDir);
  await mkdir(dir, { recursive: true });
  const json = join(dir, 'report.json');
  const html = join(dir, 'report.html');
  await writeFile(json, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(html, renderHtml(report));
  return { json, html };
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A figure value with sensible precision. */
export function fmt(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '–';
  const a = Math.abs(x);
  return num(x, a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3);
}

function ratioText(f: Figure): string {
  const r = f.ratio;
  if (r === undefined) return '';
  return `${r >= 10 ? num(r, 1) : r >= 0.1 ? num(r, 2) : r.toPrecision(2)}×`;
}

/** True when toxrelay's figure is the better one. */
function toxrelayBetter(f: Figure): boolean | undefined {
  const a = f.mean.toxrelay;
  const b = f.mean['tox-bootstrapd'];
  if (a === undefined || b === undefined || a === b) return undefined;
  return f.better === 'higher' ? a > b : a < b;
}

// ---- terminal table ----

export function formatCompare(report: CompareReport): string {
  const relays = report.relays;
  const head = ['figure', ...relays, ...(relays.length > 1 ? ['ratio'] : [])];
  const rows: string[][] = [head];
  for (const f of report.figures) {
    const better = toxrelayBetter(f);
    const mark = better === undefined ? '' : better ? ' (toxrelay better)' : ' (tox-bootstrapd better)';
    rows.push([`${f.title} [${f.unit}]`, ...relays.map((r) => fmt(f.mean[r])), ...(relays.length > 1 ? [`${ratioText(f)}${mark}`] : [])]);
  }
  const widths = head.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const lines = rows.map((r) => r.map((cell, i) => (i === 0 || i === r.length - 1 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd());
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  const notes: string[] = [];
  for (const n of report.options.notes) notes.push(`note: ${n}`);
  for (const s of report.skipped) notes.push(`skipped: ${s}`);
  for (const run of report.runs) {
    for (const w of run.result.warnings) notes.push(`warning (${run.relay}, ${run.workload}, round ${run.round}): ${w}`);
    for (const e of run.result.errors) notes.push(`error (${run.relay}, ${run.workload}, round ${run.round}): ${e}`);
  }
  return `${lines.join('\n')}\n${notes.map((n) => `${n}\n`).join('')}`;
}

// ---- SVG ----

/** One figure: a bar per relay (its mean), a dot per round, the value, and the ratio. */
export function figureSvg(f: Figure, relays: RelayName[]): string {
  const labelW = 120;
  const barW = 380;
  const valueW = 230;
  const rowH = 30;
  const present = relays.filter((r) => f.mean[r] !== undefined);
  const height = present.length * rowH + 12;
  const width = labelW + barW + valueW;
  const max = Math.max(...present.flatMap((r) => f.values[r] ?? []), 0) || 1;
  const x = (v: number) => labelW + (Math.max(0, v) / max) * barW;
  const parts: string[] = [];
  present.forEach((r, i) => {
    const y = 6 + i * rowH;
    const m = f.mean[r]!;
    parts.push(`<text x="${labelW - 8}" y="${y + 18}" text-anchor="end">${esc(r)}</text>`);
    parts.push(`<rect x="${labelW}" y="${y + 4}" width="${(x(m) - labelW).toFixed(1)}" height="${rowH - 10}" fill="${COLORS[r]}" rx="2"><title>${esc(`${r}: ${fmt(m)} ${f.unit}`)}</title></rect>`);
    const values = f.values[r] ?? [];
    if (values.length > 1) {
      for (const v of values) parts.push(`<circle cx="${x(v).toFixed(1)}" cy="${y + rowH / 2 - 1}" r="3" fill="#fff" stroke="#222"/>`);
    }
    const right = Math.max(m, ...values); // the label clears the bar and every round's dot
    const spread = values.length > 1 ? ` (${fmt(Math.min(...values))} – ${fmt(Math.max(...values))})` : '';
    parts.push(`<text x="${x(right) + 8}" y="${y + 18}">${esc(`${fmt(m)} ${f.unit}${spread}`)}</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12" role="img" aria-label="${esc(f.title)}">${parts.join('')}</svg>`;
}

/** Every ratio on one log scale around 1×: green where toxrelay is better, red where worse. */
export function ratiosSvg(figures: Figure[]): string {
  const withRatio = figures.filter((f) => f.ratio !== undefined && f.ratio > 0);
  const labels = withRatio.map((f) => `${f.title} (${f.better} is better)`);
  const labelW = 16 + Math.max(0, ...labels.map((l) => Math.ceil(l.length * 6.6)));
  const axisW = 360;
  const valueW = 90;
  const rowH = 24;
  const top = 22;
  const width = labelW + axisW + valueW;
  const height = top + withRatio.length * rowH + 8;
  // log2 range: wide enough for the largest ratio (at most 2^8 either way), in steps of 2.
  const widest = Math.max(2, ...withRatio.map((f) => Math.abs(Math.log2(f.ratio!))));
  const span = Math.min(8, 2 * Math.ceil(widest / 2));
  const cx = labelW + axisW / 2;
  const x = (ratio: number) => cx + (Math.max(-span, Math.min(span, Math.log2(ratio))) / span) * (axisW / 2);
  const parts: string[] = [];
  for (let t = -span; t <= span; t += span > 4 ? 4 : 2) {
    const tx = cx + (t / span) * (axisW / 2);
    const label = t >= 0 ? `${2 ** t}×` : `1/${2 ** -t}×`;
    parts.push(`<line x1="${tx}" y1="${top - 4}" x2="${tx}" y2="${height - 4}" stroke="${t === 0 ? '#222' : '#ccc'}"/>`);
    parts.push(`<text x="${tx}" y="${top - 8}" text-anchor="middle" fill="#555">${label}</text>`);
  }
  withRatio.forEach((f, i) => {
    const y = top + i * rowH;
    const r = f.ratio!;
    const better = toxrelayBetter(f);
    const color = better === undefined ? '#888' : better ? BETTER : WORSE;
    const x1 = Math.min(cx, x(r));
    const w = Math.max(1, Math.abs(x(r) - cx));
    parts.push(`<text x="${labelW - 8}" y="${y + 16}" text-anchor="end">${esc(labels[i]!)}</text>`);
    parts.push(`<rect x="${x1.toFixed(1)}" y="${y + 5}" width="${w.toFixed(1)}" height="${rowH - 10}" fill="${color}" rx="2"><title>${esc(`toxrelay / tox-bootstrapd = ${ratioText(f)}`)}</title></rect>`);
    parts.push(`<text x="${labelW + axisW + 8}" y="${y + 16}" fill="${color}" font-weight="bold">${esc(ratioText(f))}</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12" role="img" aria-label="ratios toxrelay / tox-bootstrapd">${parts.join('')}</svg>`;
}

// ---- HTML ----

const SECTIONS: Array<[string, string]> = [
  ['throughput', 'Throughput'],
  ['latency', 'Latency'],
  ['connect', 'Connections'],
];

function table(rows: Array<Array<string>>, head?: string[]): string {
  const th = head ? `<tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>` : '';
  return `<table>${th}${rows.map((r) => `<tr>${r.map((c, i) => `<td${i > 0 ? ' class="num"' : ''}>${c}</td>`).join('')}</tr>`).join('')}</table>`;
}

function runSummary(run: CompareRun): string {
  const r = run.result;
  if (r.throughput) {
    const t = r.throughput;
    return `${fmt(t.packetsPerS)} packets/s, ${fmt(t.megabytesPerS)} MB/s, lost ${num(t.lost)}/${num(t.sent)}, corrupt ${t.corrupt}, stalled ${t.stalledPairs}`;
  }
  if (r.latency) {
    const l = r.latency;
    return `p50 ${fmt(l.p50Us)} µs, p90 ${fmt(l.p90Us)}, p99 ${fmt(l.p99Us)}, max ${fmt(l.maxUs)} (${num(l.count)} samples), timeouts ${l.timeouts}`;
  }
  if (r.connect) {
    const k = r.connect;
    const mem = r.server?.bytesPerConnection === undefined ? '' : `, ${num(r.server.bytesPerConnection)} B/conn`;
    return `${fmt(k.handshakesPerS)} handshakes/s, ${num(k.ok)}/${num(k.requested)} ok, alive ${num(k.alive)}${mem}`;
  }
  return '–';
}

export function renderHtml(report: CompareReport): string {
  const m = report.machine;
  const o = report.options;
  const b = o.base;
  const title = report.relays.length > 1 ? 'toxrelay vs tox-bootstrapd' : 'toxrelay';
  const body: string[] = [];
  body.push(`<h1>${esc(title)}: relay benchmark</h1>`);
  const legend = report.relays.map((r) => {
    const v = report.versions?.[r];
    return `<span><i style="background:${COLORS[r]}"></i>${esc(v ? `${r} ${v}` : r)}</span>`;
  });
  body.push(`<p class="legend">${legend.join('')}</p>`);
  body.push(
    `<p>${esc(report.tool)}, ${esc(report.startedAt)} – ${esc(report.finishedAt)}. Each run started a fresh relay on loopback; the relays ran in alternation` +
      ` (${o.rounds} round${o.rounds > 1 ? 's' : ''}, the order reversed every other round). Bars show the mean of the rounds` +
      `${o.rounds > 1 ? ', dots each round' : ''}.</p>`,
  );
  for (const n of o.notes) body.push(`<p class="warn">Note: ${esc(n)}</p>`);
  for (const s of report.skipped) body.push(`<p class="warn">Skipped: ${esc(s)}</p>`);
  if (report.relays.length > 1 && report.figures.some((f) => f.ratio !== undefined)) {
    body.push('<h2>Summary: toxrelay / tox-bootstrapd</h2>');
    body.push('<p>Ratio of the means, on a log scale. Green: toxrelay is better on that figure; red: worse.</p>');
    body.push(`<div class="fig">${ratiosSvg(report.figures)}</div>`);
    // A ratio to zero has no place on a log scale; say it in words, for better or worse.
    for (const f of report.figures.filter((x) => x.mean['tox-bootstrapd'] === 0 && (x.mean.toxrelay ?? 0) !== 0)) {
      const worse = toxrelayBetter(f) === false;
      body.push(`<p class="${worse ? 'warn' : ''}">${esc(f.title)}: toxrelay ${esc(fmt(f.mean.toxrelay))} ${esc(f.unit)}, tox-bootstrapd 0 (no ratio).</p>`);
    }
  }
  for (const [workload, heading] of SECTIONS) {
    const figs = report.figures.filter((f) => f.workload === workload);
    if (figs.length === 0) continue;
    body.push(`<h2>${esc(heading)}</h2>`);
    body.push(`<p class="muted">${esc(describeWorkload(workload, report))}</p>`);
    for (const f of figs) {
      const ratio = f.ratio === undefined ? '' : ` — toxrelay / tox-bootstrapd = <b>${esc(ratioText(f))}</b>`;
      body.push(`<div class="fig"><h3>${esc(f.title)} <small>(${esc(f.unit)}, ${f.better} is better)${ratio}</small></h3>${figureSvg(f, report.relays)}</div>`);
    }
  }
  body.push('<h2>Machine</h2>');
  body.push(
    table([
      ['CPU', esc(`${m.cpuModel} × ${m.cpus}`)],
      ['Node.js', esc(m.node)],
      ['kernel', esc(m.kernel)],
      ['memory', esc(`${m.memoryGiB} GiB`)],
      ['load average at start', esc(m.loadavg.join(', '))],
      ['loopback MTU', esc(String(m.loopbackMtu ?? 'unknown'))],
    ]),
  );
  body.push('<h2>Options</h2>');
  body.push(
    table([
      ['throughput', esc(`${b.throughputPairs} pairs, ${b.size}-byte payloads, window ${b.window}, ${b.durationS} s after ${b.warmupS} s warm-up`)],
      ['latency', esc(`${b.latencyPairs} pair(s), ${b.size}-byte payloads, ${b.durationS} s after ${b.warmupS} s warm-up`)],
      ['connect', esc(`${b.connections} connections, ${b.concurrency} at once, held ${b.holdS} s, after up to ${b.warmupS} s of warm-up connections`)],
      ['bench', esc(`${b.threads} worker threads (processes: ${b.processes || 'auto'}), ${b.perSource} sockets per source address, stall ${b.stallS} s`)],
    ]),
  );
  // Each relay's command lines (the port and directory vary per run), with the workloads that used each.
  const commands = report.relays.flatMap((relay) => {
    const byCommand = new Map<string, Set<string>>();
    for (const run of report.runs) {
      if (run.relay !== relay || run.command.length === 0) continue;
      // Each run has its own port and directory (…/toxrelay-3/keys, …/tox-bootstrapd-4/tox-bootstrapd.conf).
      const key = run.command.join(' ').replace(/--port \d+/, '--port P').replace(/\/\S*?\/(?:toxrelay|tox-bootstrapd)-\d+\//g, 'DIR/');
      byCommand.set(key, (byCommand.get(key) ?? new Set()).add(run.workload));
    }
    return [...byCommand].map(([command, workloads]) => [esc(`${relay} (${[...workloads].join(', ')})`), `<code>${esc(command)}</code>`]);
  });
  if (commands.length > 0) {
    body.push('<h2>Relays</h2>');
    body.push(table(commands));
  }
  body.push('<h2>Runs</h2>');
  body.push(
    table(
      report.runs.map((run) => [
        esc(`${run.workload} · ${run.relay} · round ${run.round}`),
        esc(runSummary(run)),
        esc(run.result.cpu ? `bench ${Math.round(run.result.cpu.utilization * 100)} %, machine ${run.result.cpu.machineBusy === undefined ? '?' : Math.round(run.result.cpu.machineBusy * 100)} %` : '–'),
        esc(run.result.server?.cpuShare === undefined ? '–' : `relay ${Math.round(run.result.server.cpuShare * 100)} % of a core`),
        [...run.result.warnings.map((w) => `<span class="warn">${esc(w)}</span>`), ...run.result.errors.map((e) => `<span class="err">${esc(e)}</span>`)].join('<br>'),
      ]),
      ['run', 'result', 'CPU busy', 'relay CPU', 'notes'],
    ),
  );
  body.push('<h2>How it was measured</h2>');
  body.push(
    `<ul>
<li>Clients are toxrelay's own TypeScript client (src/client) in worker threads of the bench; every payload carries a sequence number and a CRC-32 checksum, checked on receipt.</li>
<li>Throughput: each side of a pair keeps at most ${b.window} packets in flight; the receiver acknowledges every ${Math.max(1, Math.floor(b.window / 2))}. Loss is a gap in the sequence (a relay drops data it cannot write at once, PROTOCOL §6).</li>
<li>Relay CPU and memory come from /proc/PID of the relay process. Memory per connection is the RSS growth while all connections are held, divided by their number.</li>
<li>tox-bootstrapd 0.2.18 polls every 30 ms (PROTOCOL §10), which bounds its latency and the throughput of a window-limited pair; on a loopback with MTU 65536 it can wedge a connection under bursts (§13) — such pairs are reported as stalled.</li>
<li>Latency: the bench's workers poll their sockets rather than sleep while the pairs ping-pong, so that the time to wake a client is not counted as the relay's. Where toxrelay's latency command line above has <code>--busy-poll</code>, the relay polls too (off by default; tox-bootstrapd has no such setting).</li>
<li>Bench, relays and the rest of the machine share its ${m.cpus} CPU(s): the runs table shows how busy the bench and the machine were. Where the bench's workers were ≥ 90 % busy on a machine with CPU to spare, the bench was the limit; where the whole machine was ≥ 90 % busy, the figures are the limit of bench and relay together (the warnings say which).</li>
<li>A run that ended with an error (fewer pairs or connections than asked, corrupt payloads, a relay that closed pairs or died) is left out of the figures; its errors are listed below.</li>
</ul>`,
  );
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}: relay benchmark</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; max-width: 980px; margin: 2em auto; padding: 0 1em; color: #1a202c; }
h1 { font-size: 1.6em; } h2 { margin-top: 1.8em; border-bottom: 1px solid #e2e8f0; } h3 { font-size: 1em; margin: 0.4em 0; }
small, .muted { color: #4a5568; font-weight: normal; }
table { border-collapse: collapse; margin: 0.5em 0; } td, th { padding: 3px 10px; border-bottom: 1px solid #e2e8f0; text-align: left; vertical-align: top; }
td.num { font-variant-numeric: tabular-nums; }
.fig { margin: 1em 0 1.4em; } .warn { color: #975a16; } .err { color: #c53030; }
.legend span { display: inline-block; margin-right: 1.5em; } .legend i { display: inline-block; width: 12px; height: 12px; margin-right: 5px; vertical-align: -1px; }
</style>
</head>
<body>
${body.join('\n')}
</body>
</html>
`;
}

function describeWorkload(workload: string, report: CompareReport): string {
  const b = report.options.base;
  switch (workload) {
    case 'throughput':
      return `${b.throughputPairs} linked pairs, both sides sending ${b.size}-byte payloads, window ${b.window}, measured for ${b.durationS} s after ${b.warmupS} s.`;
    case 'latency':
      return `${b.latencyPairs} pair(s) ping-ponging one ${b.size}-byte payload at a time, for ${b.durationS} s after ${b.warmupS} s.`;
    default:
      return `${b.connections} connections (TCP, handshake, confirming ping), ${b.concurrency} at once, then held idle for ${b.holdS} s; before them, up to ${b.warmupS} s of connections opened and closed to warm the relay up.`;
  }
}
