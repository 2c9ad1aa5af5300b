// The testbed page: wires the DOM (index.html) to the model, renders the graph, charts and log,
// and exposes a small read-only `window.testbed` for browser tests.
//
// Mode: "server" (clients over WebSocket to the relay named by /config.json) when that answers,
// else "inpage" (the relay core runs in this page). `?mode=server|inpage` overrides the default.

import { type Backend, fetchServerConfig, inPageBackend, type Mode, type ServerConfig, serverBackend } from './backend.ts';
import { formatBytes, formatCount, renderHistogram, renderLineChart } from './charts.ts';
import { keyHex } from './decode.ts';
import { renderGraph } from './graph.ts';
import { type LogEntry, MAX_CLIENTS, RTT_BOUNDS, type TbClient, Testbed } from './model.ts';

const SLOTS = 60;

interface Sample {
  pktIn: number;
  pktOut: number;
  bytesIn: number;
  bytesOut: number;
}

const $ = <T extends HTMLElement | SVGSVGElement = HTMLElement>(id: string): T => {
  const node = document.getElementById(id);
  if (!node) throw new Error(`#${id} missing from index.html`);
  return node as T;
};

let serverConfig: ServerConfig | undefined;
let mode: Mode | undefined;
let backend: Backend | undefined;
let testbed = new Testbed(undefined);
let selected: TbClient[] = [];
let ready = false;
let switching = false;
let lastError = '';
let samples: Sample[] = [];
let lastTotals: Sample = { pktIn: 0, pktOut: 0, bytesIn: 0, bytesOut: 0 };
let lastSampleAt = performance.now();
let graphSignature = '';
let listSignature = '';
let rttSignature = '';

// ---- window.testbed: read-only state for tests ----

const current = () => samples[samples.length - 1];
const exposed = Object.freeze({
  get mode() {
    return mode;
  },
  get ready() {
    return ready;
  },
  get relayKey() {
    return backend ? keyHex(backend.publicKey) : undefined;
  },
  get clients() {
    return testbed.openClients.length;
  },
  get readyClients() {
    return testbed.clients.filter((c) => c.status === 'ready').length;
  },
  get links() {
    return testbed.onlineLinks();
  },
  get messagesReceived() {
    return testbed.messagesReceived;
  },
  get packetsPerSecond() {
    const s = current();
    return s ? s.pktIn + s.pktOut : 0;
  },
  get bytesPerSecond() {
    const s = current();
    return s ? s.bytesIn + s.bytesOut : 0;
  },
  get packetsTotal() {
    return testbed.totals.pktIn + testbed.totals.pktOut;
  },
  get rttSamples() {
    return [...testbed.rtt.ping, ...testbed.rtt.echo].reduce((a, b) => a + b, 0);
  },
  get error() {
    return lastError;
  },
});
Object.defineProperty(window, 'testbed', { value: exposed, enumerable: true });

// ---- status, banner ----

function setStatus(text: string, kind: 'ok' | 'busy' | 'error'): void {
  const status = $('status');
  status.textContent = text;
  status.className = `status ${kind}`;
}

function showBanner(text: string, kind: 'error' | 'info' = 'error'): void {
  const banner = $('banner');
  banner.textContent = text;
  banner.className = `banner ${kind === 'info' ? 'info' : ''}`;
  banner.hidden = text === '';
}

function fail(error: unknown): void {
  lastError = error instanceof Error ? error.message : String(error);
  showBanner(lastError);
  testbed.info(lastError, undefined, 'error');
}

/** Runs a user action: its error goes to the banner and the log, not to the console only. */
function act(body: () => unknown): void {
  showBanner('');
  lastError = '';
  try {
    const result = body();
    if (result instanceof Promise) result.catch(fail);
  } catch (error) {
    fail(error);
  }
}

// ---- modes ----

async function switchMode(next: Mode): Promise<void> {
  if (switching || (next === mode && backend)) return;
  if (next === 'server' && !serverConfig) {
    fail(new Error('no relay server: this page was not served by `toxrelay testbed` (no /config.json), so only the in-page relay is available'));
    return;
  }
  switching = true;
  ready = false;
  showBanner('');
  testbed.dispose();
  backend?.close();
  backend = undefined;
  mode = next;
  selected = [];
  samples = [];
  lastTotals = { pktIn: 0, pktOut: 0, bytesIn: 0, bytesOut: 0 };
  testbed = new Testbed(undefined);
  testbed.showPings = $<HTMLInputElement>('show-pings').checked;
  $('log').replaceChildren();
  updateModeButtons();
  setStatus(next === 'server' ? 'connecting to the relay server…' : 'starting the in-page relay…', 'busy');
  $('relay-key').textContent = '—';
  try {
    backend = next === 'server' ? serverBackend(serverConfig!) : await inPageBackend();
    testbed.backend = backend;
    ready = true;
    const hexKey = keyHex(backend.publicKey);
    $('relay-key').textContent = hexKey;
    $('relay-key').title = `${hexKey}\nclick to copy`;
    setStatus(next === 'server' ? `relay server · ${backend.where}` : 'in-page relay · running', 'ok');
    testbed.info(next === 'server' ? `mode: relay server at ${backend.where}` : `mode: in-page relay (${backend.where})`);
  } catch (error) {
    setStatus(next === 'server' ? 'relay server unavailable' : 'in-page relay unavailable', 'error');
    fail(error);
  } finally {
    switching = false;
    updateModeButtons();
  }
}

function updateModeButtons(): void {
  for (const [id, m] of [
    ['mode-server', 'server'],
    ['mode-inpage', 'inpage'],
  ] as const) {
    const button = $<HTMLButtonElement>(id);
    button.setAttribute('aria-checked', String(mode === m));
    button.disabled = switching;
  }
  if (!serverConfig) $('mode-server').title = 'Not available: open the page through `toxrelay testbed` to use a relay server';
}

// ---- selection and actions ----

function toggle(c: TbClient): void {
  if (c.status === 'closed' || c.status === 'failed') return;
  if (selected.includes(c)) selected = selected.filter((s) => s !== c);
  else selected = selected.length >= 2 ? [selected[1]!, c] : [...selected, c];
}

function pair(): [TbClient, TbClient] {
  if (selected.length !== 2) throw new Error('select two clients first (click them in the graph): the first sends, the second receives');
  return [selected[0]!, selected[1]!];
}

function wire(): void {
  $('mode-server').addEventListener('click', () => void switchMode('server'));
  $('mode-inpage').addEventListener('click', () => void switchMode('inpage'));
  $('relay-key').addEventListener('click', () => {
    const text = $('relay-key').textContent ?? '';
    if (/^[0-9A-F]{64}$/.test(text)) void navigator.clipboard?.writeText(text).then(() => testbed.info('relay key copied to the clipboard'), () => {});
  });
  $('create-clients').addEventListener('click', () =>
    act(async () => {
      const n = Math.max(1, Math.min(32, Math.floor(Number($<HTMLInputElement>('client-count').value) || 1)));
      const made = await testbed.addClients(n);
      // The newest clients fill an empty selection, so Send works right away.
      for (const c of made) if (selected.length < 2) selected.push(c);
    }),
  );
  $('link').addEventListener('click', () =>
    act(async () => {
      const [a, b] = pair();
      await testbed.link(a, b);
    }),
  );
  $('ping').addEventListener('click', () =>
    act(async () => {
      if (selected.length === 0) throw new Error('select a client first (click it in the graph)');
      for (const c of selected) {
        const ms = await testbed.ping(c);
        testbed.info(`relay answered the ping in ${ms.toFixed(2)} ms`, c);
      }
    }),
  );
  $('close-client').addEventListener('click', () =>
    act(() => {
      if (selected.length === 0) throw new Error('select a client to close first (click it in the graph)');
      for (const c of selected) testbed.closeClient(c);
      selected = [];
    }),
  );
  $('send').addEventListener('click', () =>
    act(async () => {
      const [a, b] = pair();
      await testbed.sendMessage(a, b, $<HTMLInputElement>('message-text').value || '(empty)');
    }),
  );
  $('send-oob').addEventListener('click', () =>
    act(() => {
      const [a, b] = pair();
      testbed.sendOob(a, b, $<HTMLInputElement>('message-text').value || '(empty)');
    }),
  );
  $('burst').addEventListener('click', () =>
    act(async () => {
      const [a, b] = pair();
      const count = Number($<HTMLInputElement>('burst-count').value) || 1000;
      const size = Number($<HTMLInputElement>('burst-size').value) || 256;
      await testbed.burst(a, b, count, size);
    }),
  );
  $<HTMLInputElement>('show-pings').addEventListener('change', (event) => {
    testbed.showPings = (event.target as HTMLInputElement).checked;
  });
  $('clear-log').addEventListener('click', () => $('log').replaceChildren());

  // Clicks on graph nodes and list rows: pointerdown, since both are rebuilt while they animate.
  const pick = (event: Event) => {
    const target = (event.target as Element).closest('[data-client-id]');
    if (!target) return;
    const c = testbed.byId(Number(target.getAttribute('data-client-id')));
    if (c) toggle(c);
  };
  $('graph').addEventListener('pointerdown', pick);
  $('client-list').addEventListener('pointerdown', pick);
  for (const id of ['graph', 'client-list']) {
    $(id).addEventListener('keydown', (event) => {
      const key = (event as KeyboardEvent).key;
      if (key === 'Enter' || key === ' ') pick(event);
    });
  }
}

// ---- rendering ----

function chip(c: TbClient): string {
  return `<span class="chip"><i style="background:${c.color}"></i>${c.name}</span>`;
}

function renderSelection(): void {
  const el = $('selection');
  const openCount = testbed.openClients.length;
  let html: string;
  if (!ready) html = 'Waiting for the relay…';
  else if (openCount === 0) html = 'Add a few clients to start.';
  else if (selected.length === 0) html = 'Click two clients in the graph: the first sends, the second receives.';
  else if (selected.length === 1) html = `${chip(selected[0]!)} selected — click one more to pick a receiver.`;
  else {
    const [a, b] = selected as [TbClient, TbClient];
    const state = testbed.isOnline(a, b) ? 'linked' : 'not linked yet';
    html = `${chip(a)} → ${chip(b)} <span class="muted">(${state})</span>`;
  }
  if (el.innerHTML !== html) el.innerHTML = html;

  const both = selected.length === 2 && selected.every((c) => c.status === 'ready');
  const any = selected.some((c) => c.status === 'ready');
  const hint = both ? '' : 'Select two connected clients first';
  for (const id of ['link', 'send', 'send-oob', 'burst']) {
    const button = $<HTMLButtonElement>(id);
    button.disabled = !both;
    button.title = hint || (id === 'send-oob' ? 'Out-of-band: delivered by public key, no link needed' : '');
  }
  $<HTMLButtonElement>('ping').disabled = !any;
  $<HTMLButtonElement>('close-client').disabled = !any;
  $<HTMLButtonElement>('create-clients').disabled = !ready || openCount >= MAX_CLIENTS;
}

function renderList(): void {
  const clients = testbed.clients;
  const signature = clients.map((c) => `${c.id}:${c.status}:${selected.indexOf(c)}:${c.received}:${c.links.size}`).join('|');
  $('client-list-empty').hidden = clients.length > 0;
  if (signature === listSignature) {
    // Counters change all the time; only their text is updated.
    for (const c of clients) {
      const meta = document.querySelector(`#client-list [data-client-id="${c.id}"] .meta`);
      if (meta) meta.textContent = metaText(c);
    }
    return;
  }
  listSignature = signature;
  const list = $('client-list');
  list.replaceChildren(
    ...clients.map((c) => {
      const li = document.createElement('li');
      li.className = `${c.status}${selected.includes(c) ? ' selected' : ''}`;
      li.dataset.clientId = String(c.id);
      li.dataset.testid = `client-${c.id}`;
      li.tabIndex = 0;
      li.title = `public key ${c.keyHex}`;
      li.innerHTML = `<span class="dot" style="background:${c.color}"></span><span><b>${c.name}</b> <span class="meta"></span></span><span class="state">${c.status}</span>`;
      li.querySelector('.meta')!.textContent = metaText(c);
      return li;
    }),
  );
}

function metaText(c: TbClient): string {
  return `${c.keyHex.slice(0, 8)}… · ↑${formatCount(c.pktOut)} ↓${formatCount(c.pktIn)} pkts · ${c.received} msgs`;
}

function renderGraphIfChanged(now: number): void {
  const links = testbed.links();
  const live = testbed.pulses.some((p) => now - p.start < 800);
  const signature = [
    testbed.clients.map((c) => `${c.id}${c.status}`).join(','),
    links.map((l) => `${l.a.id}-${l.b.id}${l.state}`).join(','),
    selected.map((c) => c.id).join(','),
  ].join('/');
  $('graph-empty').hidden = testbed.clients.length > 0;
  if (!live && signature === graphSignature) return;
  graphSignature = live ? '' : signature;
  renderGraph($<SVGSVGElement>('graph'), { clients: testbed.clients, links, pulses: testbed.pulses, selected, now });
}

function renderLog(): void {
  const fresh = testbed.takeNewLog();
  const log = $('log');
  if (fresh.length > 0) {
    const fragment = document.createDocumentFragment();
    for (let i = fresh.length - 1; i >= 0; i--) fragment.append(logRow(fresh[i]!));
    log.prepend(fragment);
    while (log.childElementCount > 400) log.lastElementChild!.remove();
  }
  $('log-empty').hidden = log.childElementCount > 0;
}

function logRow(entry: LogEntry): HTMLElement {
  const row = document.createElement('div');
  row.className = `entry ${entry.level}`;
  const t = document.createElement('span');
  t.className = 't';
  t.textContent = `${(entry.t / 1000).toFixed(3)}s`;
  const who = document.createElement('span');
  who.className = 'who';
  who.textContent = entry.client?.name ?? 'testbed';
  if (entry.client) who.style.color = entry.client.color;
  const dir = document.createElement('span');
  dir.className = 'dir';
  dir.textContent = entry.dir;
  const msg = document.createElement('span');
  msg.className = 'msg';
  const p = entry.packet;
  if (p) {
    const name = document.createElement('span');
    name.className = 'name';
    name.textContent = p.name;
    msg.append(name);
    const field = (label: string, value: string) => {
      const f = document.createElement('span');
      f.className = 'field';
      f.innerHTML = `${label} <b></b>`;
      f.querySelector('b')!.textContent = value;
      msg.append(f);
    };
    if (p.connId !== undefined) field('conn', String(p.connId));
    if (p.publicKey) {
      const peer = testbed.byKey(keyHex(p.publicKey));
      field('key', `${keyHex(p.publicKey).slice(0, 8)}…${peer ? ` (${peer.name})` : ''}`);
    }
    if (p.payload) field('payload', `${p.payload.length} B`);
    field('plaintext', `${p.plaintextSize} B`);
    field('wire', `${p.wireSize} B`);
    const hexSpan = document.createElement('span');
    hexSpan.className = 'hex';
    hexSpan.textContent = p.hex;
    msg.append(hexSpan);
    if (p.error) field('malformed', p.error);
    row.dataset.packet = p.name;
  } else {
    msg.textContent = entry.text;
  }
  row.append(t, who, dir, msg);
  return row;
}

function renderTiles(): void {
  const s = current();
  const set = (id: string, text: string) => {
    const el = $(id);
    if (el.textContent !== text) el.textContent = text;
  };
  set('stat-clients', String(testbed.openClients.length));
  set('stat-links', String(testbed.onlineLinks()));
  set('stat-messages', String(testbed.messagesReceived));
  set('stat-pps', formatCount(s ? s.pktIn + s.pktOut : 0));
  set('stat-bps', formatBytes(s ? s.bytesIn + s.bytesOut : 0));
  const stats = backend?.stats();
  set('stat-relay', stats ? `${formatCount(stats.framesIn)} / ${formatCount(stats.framesOut)}` : '—');
  $('stat-relay').title = stats
    ? `accepted ${stats.accepted}, handshakes ${stats.handshakes}, dropped ${stats.dropped}`
    : 'The relay’s own counters are visible in in-page mode only';
}

function renderCharts(): void {
  const sent = '#4f9dff';
  const recv = '#3ddc97';
  renderLineChart(
    $<SVGSVGElement>('chart-packets'),
    [
      { label: 'sent', color: sent, values: samples.map((s) => s.pktOut) },
      { label: 'received', color: recv, values: samples.map((s) => s.pktIn) },
    ],
    SLOTS,
    formatCount,
  );
  renderLineChart(
    $<SVGSVGElement>('chart-bytes'),
    [
      { label: 'sent', color: sent, values: samples.map((s) => s.bytesOut) },
      { label: 'received', color: recv, values: samples.map((s) => s.bytesIn) },
    ],
    SLOTS,
    formatBytes,
    true,
  );
}

function renderRtt(): void {
  const signature = `${testbed.rttRecent.length}:${testbed.rtt.ping.join(',')}:${testbed.rtt.echo.join(',')}`;
  if (signature === rttSignature) return;
  rttSignature = signature;
  renderHistogram($<SVGSVGElement>('chart-rtt'), RTT_BOUNDS, [
    { label: 'ping (client ⇄ relay)', color: '#c77dff', values: testbed.rtt.ping },
    { label: 'echo (client ⇄ client)', color: '#ffbe3d', values: testbed.rtt.echo },
  ]);
  const recent = [...testbed.rttRecent].sort((a, b) => a - b);
  if (recent.length > 0) {
    const q = (p: number) => recent[Math.min(recent.length - 1, Math.floor(p * recent.length))]!.toFixed(2);
    const total = [...testbed.rtt.ping, ...testbed.rtt.echo].reduce((a, b) => a + b, 0);
    $('rtt-summary').textContent = `${total} samples · recent p50 ${q(0.5)} ms · p90 ${q(0.9)} ms · p99 ${q(0.99)} ms · max ${recent[recent.length - 1]!.toFixed(2)} ms`;
  } else {
    $('rtt-summary').textContent = 'No samples yet: clients ping the relay every 2 s once connected; messages and bursts add client ⇄ client echoes.';
  }
}

function sample(): void {
  const now = performance.now();
  const dt = Math.max(0.001, (now - lastSampleAt) / 1000);
  lastSampleAt = now;
  const t = testbed.totals;
  const rate = (key: keyof Sample) => Math.max(0, (t[key] - lastTotals[key]) / dt);
  samples.push({ pktIn: rate('pktIn'), pktOut: rate('pktOut'), bytesIn: rate('bytesIn'), bytesOut: rate('bytesOut') });
  if (samples.length > SLOTS) samples.shift();
  lastTotals = { ...t };
  renderCharts();
}

function frame(): void {
  const now = performance.now();
  testbed.prune(now);
  selected = selected.filter((c) => c.status === 'ready' || c.status === 'connecting');
  renderSelection();
  renderList();
  renderGraphIfChanged(now);
  renderLog();
  renderTiles();
  requestAnimationFrame(frame);
}

async function init(): Promise<void> {
  wire();
  renderCharts();
  renderRtt();
  requestAnimationFrame(frame);
  setInterval(sample, 1000);
  setInterval(renderRtt, 500);
  serverConfig = await fetchServerConfig();
  updateModeButtons();
  const asked = new URLSearchParams(location.search).get('mode');
  const wanted: Mode = asked === 'server' || asked === 'inpage' ? asked : serverConfig ? 'server' : 'inpage';
  await switchMode(wanted);
  if (!serverConfig) testbed.info('no /config.json here (not served by `toxrelay testbed`), so no relay server: in-page relay only');
}

void init();
