// The clients and their links as an SVG graph: the relay in the middle, the clients on a circle
// around it, a thin spoke for each client's own connection to the relay, and a line for each
// link (dashed while only one side asked, solid once the relay linked them). Messages travel as
// dots from the sender through the relay to the receiver.
import type { LinkView, Pulse, TbClient } from './model.ts';

const NS = 'http://www.w3.org/2000/svg';
const SIZE = 460;
const C = SIZE / 2;
const PULSE_MS = 700;

export interface GraphInput {
  clients: TbClient[];
  links: LinkView[];
  pulses: Pulse[];
  selected: TbClient[];
  now: number;
}

function el(name: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

export function layout(clients: TbClient[]): Map<number, { x: number; y: number }> {
  const out = new Map<number, { x: number; y: number }>();
  const n = clients.length;
  const radius = n <= 2 ? 130 : Math.min(180, 110 + n * 4);
  clients.forEach((c, i) => {
    const angle = -Math.PI / 2 + (2 * Math.PI * i) / Math.max(n, 1) + (n === 2 ? -Math.PI / 2 : 0);
    out.set(c.id, { x: C + radius * Math.cos(angle), y: C + radius * Math.sin(angle) });
  });
  return out;
}

/** Rebuilds the graph; clicks are handled by the caller on the svg (nodes carry data-client-id). */
export function renderGraph(svg: SVGSVGElement, input: GraphInput): void {
  svg.setAttribute('viewBox', `0 0 ${SIZE} ${SIZE}`);
  svg.replaceChildren();
  const at = layout(input.clients);
  const nodeRadius = input.clients.length > 24 ? 12 : 18;

  const relay = el('g', { class: 'relay-node' });
  relay.append(el('circle', { cx: C, cy: C, r: 30 }));
  relay.append(el('text', { x: C, y: C + 4, 'text-anchor': 'middle' }, 'relay'));

  for (const c of input.clients) {
    const p = at.get(c.id)!;
    svg.append(el('line', { x1: C, y1: C, x2: p.x, y2: p.y, class: `spoke ${c.status}` }));
  }
  for (const link of input.links) {
    const a = at.get(link.a.id);
    const b = at.get(link.b.id);
    if (!a || !b) continue;
    const line = el('line', { x1: a.x, y1: a.y, x2: b.x, y2: b.y, class: `link ${link.state}`, 'data-testid': `link-${link.a.id}-${link.b.id}` });
    line.append(el('title', {}, `${link.a.name} ⇄ ${link.b.name}: ${link.state}`));
    svg.append(line);
  }
  svg.append(relay);

  // Pulses: sender → relay → receiver, as the packet really travels.
  for (const pulse of input.pulses) {
    const from = at.get(pulse.from.id);
    const to = at.get(pulse.to.id);
    const t = (input.now - pulse.start) / PULSE_MS;
    if (!from || !to || t < 0 || t > 1) continue;
    const [sx, sy, ex, ey, u] = t < 0.5 ? [from.x, from.y, C, C, t * 2] : [C, C, to.x, to.y, t * 2 - 1];
    const r = pulse.kind === 'message' || pulse.kind === 'oob' ? 7 : 4;
    svg.append(el('circle', { cx: sx + (ex - sx) * u, cy: sy + (ey - sy) * u, r, fill: pulse.from.color, class: `pulse ${pulse.kind}` }));
  }

  input.clients.forEach((c) => {
    const p = at.get(c.id)!;
    const order = input.selected.indexOf(c);
    const g = el('g', { class: `client-node ${c.status}${order >= 0 ? ' selected' : ''}`, 'data-testid': `client-node-${c.id}`, 'data-client-id': c.id, tabindex: 0, role: 'button' });
    g.append(el('title', {}, `${c.name} (${c.status}) — key ${c.keyHex.slice(0, 16)}…\nclick to select`));
    if (order >= 0) g.append(el('circle', { cx: p.x, cy: p.y, r: nodeRadius + 6, class: 'ring' }));
    g.append(el('circle', { cx: p.x, cy: p.y, r: nodeRadius, fill: c.color }));
    g.append(el('text', { x: p.x, y: p.y + 4, 'text-anchor': 'middle', class: 'node-label' }, c.name));
    if (order >= 0) {
      const dx = p.x + nodeRadius * 0.8;
      const dy = p.y - nodeRadius * 0.8;
      g.append(el('circle', { cx: dx, cy: dy, r: 8, class: 'badge' }));
      g.append(el('text', { x: dx, y: dy + 3.5, 'text-anchor': 'middle', class: 'badge-text' }, order === 0 ? '1' : '2'));
    }
    svg.append(g);
  });
}
