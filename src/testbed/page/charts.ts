// Hand-made SVG charts: a rolling 60 s line chart and the RTT histogram. Each render rebuilds
// the chart's SVG from the data (a few dozen elements, so this stays cheap).

const NS = 'http://www.w3.org/2000/svg';

export interface Series {
  label: string;
  color: string;
  values: number[];
}

export function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(0)} k`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return n >= 10 || n === 0 ? n.toFixed(0) : n.toFixed(1);
}

export function formatBytes(n: number): string {
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KiB`;
  return `${n.toFixed(0)} B`;
}

/** A "nice" axis maximum at or above `value`: 1, 2 or 5 times a power of ten. */
function niceMax(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 4, 8, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

function el(name: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

const W = 600;
const H = 170;
const PAD = { left: 70, right: 12, top: 12, bottom: 22 };

/** Lines over the last `slots` seconds (the newest value at the right edge). A `binary` axis tops out at a power of two (for bytes). */
export function renderLineChart(svg: SVGSVGElement, series: Series[], slots: number, format: (n: number) => string, binary = false): void {
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.replaceChildren();
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const top = Math.max(0, ...series.flatMap((s) => s.values));
  const max = binary ? 2 ** Math.ceil(Math.log2(Math.max(4096, top))) : niceMax(Math.max(4, top));
  for (let i = 0; i <= 4; i++) {
    const y = PAD.top + (plotH * i) / 4;
    svg.append(el('line', { x1: PAD.left, x2: W - PAD.right, y1: y, y2: y, class: 'grid' }));
    svg.append(el('text', { x: PAD.left - 6, y: y + 4, class: 'axis', 'text-anchor': 'end' }, format((max * (4 - i)) / 4)));
  }
  for (const [label, at] of [
    ['−60 s', 0],
    ['−30 s', 0.5],
    ['now', 1],
  ] as const) {
    svg.append(el('text', { x: PAD.left + plotW * at, y: H - 5, class: 'axis', 'text-anchor': at === 0 ? 'start' : at === 1 ? 'end' : 'middle' }, label));
  }
  for (const s of series) {
    if (s.values.length === 0) continue;
    const offset = slots - s.values.length;
    const points = s.values.map((v, i) => {
      const x = PAD.left + (plotW * (offset + i)) / (slots - 1);
      const y = PAD.top + plotH - (plotH * v) / max;
      return `${x.toFixed(1)},${y.toFixed(1)}`;
    });
    const first = points[0]!.split(',')[0];
    const last = points[points.length - 1]!.split(',')[0];
    svg.append(el('polygon', { points: `${first},${PAD.top + plotH} ${points.join(' ')} ${last},${PAD.top + plotH}`, fill: s.color, class: 'area' }));
    svg.append(el('polyline', { points: points.join(' '), stroke: s.color, class: 'line' }));
  }
}

/** Stacked bars, one per bucket; `bounds` are the buckets' upper edges in ms. */
export function renderHistogram(svg: SVGSVGElement, bounds: number[], stacks: Series[]): void {
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.replaceChildren();
  const buckets = bounds.length + 1;
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const totals = Array.from({ length: buckets }, (_, i) => stacks.reduce((sum, s) => sum + (s.values[i] ?? 0), 0));
  const max = niceMax(Math.max(4, ...totals));
  for (let i = 0; i <= 4; i++) {
    const y = PAD.top + (plotH * i) / 4;
    svg.append(el('line', { x1: PAD.left, x2: W - PAD.right, y1: y, y2: y, class: 'grid' }));
    svg.append(el('text', { x: PAD.left - 6, y: y + 4, class: 'axis', 'text-anchor': 'end' }, formatCount((max * (4 - i)) / 4)));
  }
  const slot = plotW / buckets;
  for (let b = 0; b < buckets; b++) {
    let y = PAD.top + plotH;
    for (const s of stacks) {
      const v = s.values[b] ?? 0;
      if (v === 0) continue;
      const h = (plotH * v) / max;
      y -= h;
      const bar = el('rect', { x: PAD.left + b * slot + 3, y, width: slot - 6, height: h, rx: 2, fill: s.color });
      bar.append(el('title', {}, `${s.label}: ${v}`));
      svg.append(bar);
    }
    const label = b < bounds.length ? `≤${bounds[b]! < 1 ? bounds[b] : bounds[b]!.toFixed(0)}` : `>${bounds[bounds.length - 1]}`;
    svg.append(el('text', { x: PAD.left + b * slot + slot / 2, y: H - 5, class: 'axis', 'text-anchor': 'middle' }, label));
  }
  svg.append(el('text', { x: W - PAD.right, y: PAD.top + 10, class: 'axis', 'text-anchor': 'end' }, 'ms'));
}
