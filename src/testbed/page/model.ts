// The testbed's state and actions, without DOM: relay clients (each over a Transport from the
// current backend), the links between them, traffic counters, RTT samples and the event log.
// The UI (main.ts) calls the actions and reads the state on every frame.

import { RelayClient } from '../../client/client.ts';
import { encodeData, encodeOobSend, encodePing, encodeRoutingRequest } from '../../client/packets.ts';
import { generateKeyPair, ready } from '../../client/sodium.ts';
import type { Transport } from '../../client/transport.ts';
import { randomPingId } from '../../client/client.ts';
import type { Backend } from './backend.ts';
import { decodeReceived, decodeSent, type DecodedPacket, keyHex } from './decode.ts';

export const MAX_CLIENTS = 64;
export const MAX_BURST = 10_000;
const AUTO_PING_MS = 2_000;
const LINK_WAIT_MS = 5_000;
/** Log entries per second before the rest of that second's packets are only counted. */
const LOG_RATE = 120;
const LOG_KEEP = 400;
/** A burst receiver echoes every ECHO_EVERY-th packet, for RTT under load. */
const ECHO_EVERY = 20;

/** First byte of the testbed's own data/OOB payloads. */
const TAG_MESSAGE = 0x4d; // 'M' + UTF-8 text
const TAG_ECHO = 0x45; // 'E' + u32 seq + f64 send time: answered with TAG_REPLY
const TAG_REPLY = 0x52; // 'R' + the same 12 bytes
const TAG_BURST = 0x42; // 'B' + u32 seq + f64 send time + padding

const COLORS = ['#4f9dff', '#ff7a59', '#2ec4a6', '#c77dff', '#ffbe3d', '#ff5d8f', '#7bd389', '#5bc0eb', '#f28f3b', '#a0a4ff', '#e4572e', '#17bebb'];

export type ClientStatus = 'connecting' | 'ready' | 'closed' | 'failed';

export interface LinkEnd {
  connId: number;
  online: boolean;
  wasOnline: boolean;
}

export interface TbClient {
  readonly id: number;
  readonly name: string;
  readonly color: string;
  readonly key: Uint8Array;
  readonly keyHex: string;
  status: ClientStatus;
  client: RelayClient | undefined;
  /** Peer client id → this client's side of the link. */
  readonly links: Map<number, LinkEnd>;
  pktIn: number;
  pktOut: number;
  bytesIn: number;
  bytesOut: number;
  received: number;
  endedAt?: number;
}

export type LinkState = 'pending' | 'online' | 'down';

export interface LinkView {
  a: TbClient;
  b: TbClient;
  state: LinkState;
}

export interface LogEntry {
  t: number;
  client?: TbClient;
  dir: '→' | '←' | '•';
  packet?: DecodedPacket;
  text: string;
  level: 'info' | 'warn' | 'error' | 'packet' | 'ping';
}

export interface Pulse {
  from: TbClient;
  to: TbClient;
  start: number;
  kind: 'message' | 'oob' | 'data' | 'echo';
}

export type RttKind = 'ping' | 'echo';
/** Upper bounds (ms) of the RTT histogram's buckets; the last bucket is everything above. */
export const RTT_BOUNDS = [0.25, 0.5, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512];

export class Testbed {
  readonly clients: TbClient[] = [];
  readonly log: LogEntry[] = [];
  /** Entries added since the UI last took them (takeNewLog()). */
  private fresh: LogEntry[] = [];
  readonly pulses: Pulse[] = [];
  readonly totals = { pktIn: 0, pktOut: 0, bytesIn: 0, bytesOut: 0 };
  readonly rtt = { ping: new Array<number>(RTT_BOUNDS.length + 1).fill(0), echo: new Array<number>(RTT_BOUNDS.length + 1).fill(0) };
  readonly rttRecent: number[] = [];
  messagesReceived = 0;
  private nextId = 1;
  private logSecond = 0;
  private loggedThisSecond = 0;
  private suppressed = 0;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private burstSeq = 0;
  readonly t0 = performance.now();
  showPings = false;

  constructor(public backend: Backend | undefined) {
    this.pingTimer = setInterval(() => this.autoPing(), AUTO_PING_MS);
  }

  get openClients(): TbClient[] {
    return this.clients.filter((c) => c.status === 'connecting' || c.status === 'ready');
  }

  byKey(hexKey: string): TbClient | undefined {
    return this.clients.find((c) => c.keyHex === hexKey);
  }

  byId(id: number): TbClient | undefined {
    return this.clients.find((c) => c.id === id);
  }

  /** Every pair with a link on at least one side, once. */
  links(): LinkView[] {
    const out: LinkView[] = [];
    for (const a of this.clients) {
      for (const [peerId, end] of a.links) {
        const b = this.byId(peerId);
        if (!b) continue;
        const other = b.links.get(a.id);
        if (other && b.id < a.id) continue; // listed from b's side
        const online = end.online && (other?.online ?? false);
        const state: LinkState = online ? 'online' : end.wasOnline || other?.wasOnline ? 'down' : 'pending';
        out.push({ a, b, state });
      }
    }
    return out;
  }

  onlineLinks(): number {
    return this.links().filter((l) => l.state === 'online').length;
  }

  // ---- log ----

  addLog(entry: Omit<LogEntry, 't'>, rateLimited = false): void {
    const now = performance.now();
    if (rateLimited) {
      const second = Math.floor(now / 1000);
      if (second !== this.logSecond) this.flushSuppressed(second);
      if (this.loggedThisSecond >= LOG_RATE) {
        this.suppressed++;
        return;
      }
      this.loggedThisSecond++;
    }
    const full = { ...entry, t: now - this.t0 };
    this.log.push(full);
    this.fresh.push(full);
    if (this.log.length > LOG_KEEP) this.log.splice(0, this.log.length - LOG_KEEP);
    if (this.fresh.length > LOG_KEEP) this.fresh.splice(0, this.fresh.length - LOG_KEEP);
  }

  private flushSuppressed(second: number): void {
    this.logSecond = second;
    this.loggedThisSecond = 0;
    if (this.suppressed > 0) {
      const n = this.suppressed;
      this.suppressed = 0;
      this.addLog({ dir: '•', level: 'warn', text: `… ${n} more packets in that second, counted but not logged` });
    }
  }

  takeNewLog(): LogEntry[] {
    const second = Math.floor(performance.now() / 1000);
    if (second !== this.logSecond) this.flushSuppressed(second);
    const out = this.fresh;
    this.fresh = [];
    return out;
  }

  info(text: string, client?: TbClient, level: LogEntry['level'] = 'info'): void {
    this.addLog({ dir: '•', text, level, ...(client ? { client } : {}) });
  }

  // ---- clients ----

  async addClients(count: number): Promise<TbClient[]> {
    const backend = this.backend;
    if (!backend) throw new Error('no relay yet');
    const room = MAX_CLIENTS - this.openClients.length;
    if (room <= 0) throw new Error(`at most ${MAX_CLIENTS} clients at once`);
    await ready();
    const made: TbClient[] = [];
    for (let i = 0; i < Math.min(count, room); i++) {
      const keyPair = generateKeyPair();
      const id = this.nextId++;
      const c: TbClient = {
        id,
        name: `C${id}`,
        color: COLORS[(id - 1) % COLORS.length]!,
        key: keyPair.publicKey,
        keyHex: keyHex(keyPair.publicKey),
        status: 'connecting',
        client: undefined,
        links: new Map(),
        pktIn: 0,
        pktOut: 0,
        bytesIn: 0,
        bytesOut: 0,
        received: 0,
      };
      this.clients.push(c);
      made.push(c);
      void this.start(c, backend, keyPair);
    }
    return made;
  }

  private async start(c: TbClient, backend: Backend, keyPair: ReturnType<typeof generateKeyPair>): Promise<void> {
    const began = performance.now();
    try {
      const transport = this.counted(c, await backend.connect());
      if (c.status !== 'connecting' || backend !== this.backend) {
        transport.close();
        return;
      }
      const client = new RelayClient({ transport, serverPublicKey: backend.publicKey, keyPair });
      c.client = client;
      this.wire(c, client);
      this.info(`connecting: handshake with the relay (key ${c.keyHex.slice(0, 8)}…)`, c);
      await client.connect();
      if (c.status !== 'connecting') return;
      c.status = 'ready';
      this.info(`connected and confirmed in ${(performance.now() - began).toFixed(1)} ms`, c);
    } catch (error) {
      if (c.status === 'connecting') {
        c.status = 'failed';
        c.endedAt = performance.now();
        this.info(`could not connect: ${(error as Error).message}`, c, 'error');
      }
    }
  }

  /** The transport with byte and frame counters (every write after the 128-byte hello is one frame). */
  private counted(c: TbClient, inner: Transport): Transport {
    let writes = 0;
    return {
      write: (bytes) => {
        if (writes++ > 0) {
          c.pktOut++;
          this.totals.pktOut++;
        }
        c.bytesOut += bytes.length;
        this.totals.bytesOut += bytes.length;
        inner.write(bytes);
      },
      close: () => inner.close(),
      onData: (receiver) =>
        inner.onData((bytes) => {
          c.bytesIn += bytes.length;
          this.totals.bytesIn += bytes.length;
          receiver(bytes);
        }),
      onClose: (handler) => inner.onClose(handler),
    };
  }

  private wire(c: TbClient, client: RelayClient): void {
    client.on('packet', ({ plaintext }) => {
      c.pktIn++;
      this.totals.pktIn++;
      const id = plaintext[0];
      const isPing = id === 4 || id === 5;
      if (isPing && !this.showPings) return;
      const isBulk = id !== undefined && id >= 16 && plaintext[1] === TAG_BURST;
      if (isBulk && (plaintext[5]! & 0x0f) !== 0) {
        // Burst packets: only a sample reaches the log, the rest are counted.
        this.suppressed++;
        return;
      }
      this.addLog({ client: c, dir: '←', packet: decodeReceived(plaintext), text: '', level: isPing ? 'ping' : 'packet' }, true);
    });
    client.on('ping', () => {
      if (this.showPings) this.addLog({ client: c, dir: '→', text: 'PONG sent automatically', level: 'ping' }, true);
    });
    client.on('routingResponse', ({ connId, publicKey }) => {
      const peer = this.byKey(keyHex(publicKey));
      if (connId === 0) {
        this.info(`routing request for ${peer?.name ?? 'a key'} refused (no free slot)`, c, 'warn');
        return;
      }
      if (!peer) return;
      const old = c.links.get(peer.id);
      c.links.set(peer.id, { connId, online: old?.online ?? false, wasOnline: old?.wasOnline ?? false });
    });
    client.on('connectNotification', ({ connId }) => {
      const peer = this.peerOf(c, connId);
      if (!peer) return;
      const end = c.links.get(peer.id)!;
      end.online = true;
      end.wasOnline = true;
      if (c.id < peer.id) this.info(`link ${c.name} ⇄ ${peer.name} is online (conn ${connId})`, c);
    });
    client.on('disconnectNotification', ({ connId }) => {
      const peer = this.peerOf(c, connId);
      if (!peer) return;
      c.links.get(peer.id)!.online = false;
      this.info(`link to ${peer.name} went offline (the peer closed or dropped it)`, c, 'warn');
    });
    client.on('data', ({ connId, data }) => {
      const peer = this.peerOf(c, connId);
      this.payload(c, peer, data, false);
    });
    client.on('oob', ({ publicKey, data }) => {
      this.payload(c, this.byKey(keyHex(publicKey)), data, true);
    });
    client.on('close', ({ error }) => {
      const wasOpen = c.status === 'connecting' || c.status === 'ready';
      if (c.status === 'connecting' || c.status === 'ready') c.status = error ? 'failed' : 'closed';
      c.endedAt ??= performance.now();
      for (const end of c.links.values()) end.online = false;
      if (wasOpen) this.info(error ? `connection lost: ${error.message}` : 'connection closed', c, error ? 'error' : 'info');
    });
  }

  private peerOf(c: TbClient, connId: number): TbClient | undefined {
    for (const [peerId, end] of c.links) if (end.connId === connId) return this.byId(peerId);
    return undefined;
  }

  private payload(c: TbClient, peer: TbClient | undefined, data: Uint8Array, oob: boolean): void {
    const tag = data[0];
    if (tag === TAG_MESSAGE) {
      const text = new TextDecoder().decode(data.subarray(1));
      c.received++;
      this.messagesReceived++;
      this.info(`${oob ? 'OOB message' : 'message'} from ${peer?.name ?? 'an unknown key'}: “${text}”`, c);
      if (peer) this.pulse(peer, c, oob ? 'oob' : 'message');
    } else if ((tag === TAG_ECHO || tag === TAG_BURST) && data.length >= 13 && peer && !oob) {
      const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
      const seq = view.getUint32(1);
      if (tag === TAG_BURST) this.burstReceived(peer, c);
      if (tag === TAG_ECHO || seq % ECHO_EVERY === 0) {
        const reply = new Uint8Array(13);
        reply.set(data.subarray(0, 13));
        reply[0] = TAG_REPLY;
        this.trySendData(c, peer, reply);
      }
    } else if (tag === TAG_REPLY && data.length >= 13) {
      const sent = new DataView(data.buffer, data.byteOffset, data.byteLength).getFloat64(5);
      this.addRtt('echo', performance.now() - sent);
      if (peer) this.pulse(peer, c, 'echo');
    }
  }

  private pulse(from: TbClient, to: TbClient, kind: Pulse['kind']): void {
    const now = performance.now();
    if (kind === 'data' || kind === 'echo') {
      // At most a few pulses per pair in flight: a burst is shown, not drawn packet by packet.
      const live = this.pulses.filter((p) => p.from === from && p.to === to && now - p.start < 250).length;
      if (live > 0) return;
    }
    this.pulses.push({ from, to, start: now, kind });
    if (this.pulses.length > 200) this.pulses.splice(0, this.pulses.length - 200);
  }

  addRtt(kind: RttKind, ms: number): void {
    let bucket = RTT_BOUNDS.findIndex((bound) => ms <= bound);
    if (bucket === -1) bucket = RTT_BOUNDS.length;
    this.rtt[kind][bucket]!++;
    this.rttRecent.push(ms);
    if (this.rttRecent.length > 2000) this.rttRecent.splice(0, this.rttRecent.length - 2000);
  }

  private send(c: TbClient, plaintext: Uint8Array, log = true): void {
    const client = c.client;
    if (!client || c.status !== 'ready') throw new Error(`${c.name} is not connected`);
    client.sendPlaintext(plaintext);
    if (log) this.addLog({ client: c, dir: '→', packet: decodeSent(plaintext), text: '', level: 'packet' }, true);
  }

  private trySendData(from: TbClient, to: TbClient, payload: Uint8Array, log = true): boolean {
    const end = from.links.get(to.id);
    if (!end?.online || from.status !== 'ready') return false;
    this.send(from, encodeData(end.connId, payload), log);
    return true;
  }

  // ---- actions on a pair (a is the sender) ----

  /** Both sides ask the relay for a link to the other; resolves once it is online. */
  async link(a: TbClient, b: TbClient): Promise<void> {
    if (a === b) throw new Error('pick two different clients');
    for (const c of [a, b]) if (c.status !== 'ready') throw new Error(`${c.name} is ${c.status === 'connecting' ? 'still connecting' : c.status}`);
    if (this.isOnline(a, b)) return;
    if (!a.links.get(b.id)?.online) this.send(a, encodeRoutingRequest(b.key));
    if (!b.links.get(a.id)?.online) this.send(b, encodeRoutingRequest(a.key));
    const deadline = performance.now() + LINK_WAIT_MS;
    while (!this.isOnline(a, b)) {
      if (performance.now() > deadline) throw new Error(`link ${a.name} ⇄ ${b.name} not online within ${LINK_WAIT_MS / 1000} s`);
      if (a.status !== 'ready' || b.status !== 'ready') throw new Error('a client closed while linking');
      await sleep(15);
    }
  }

  isOnline(a: TbClient, b: TbClient): boolean {
    return (a.links.get(b.id)?.online ?? false) && (b.links.get(a.id)?.online ?? false);
  }

  async sendMessage(a: TbClient, b: TbClient, text: string): Promise<void> {
    await this.link(a, b);
    const body = new TextEncoder().encode(text);
    const payload = new Uint8Array(1 + body.length);
    payload[0] = TAG_MESSAGE;
    payload.set(body, 1);
    if (payload.length > 1500) throw new Error('message too long (1500 bytes at most)');
    this.trySendData(a, b, payload);
    this.pulse(a, b, 'message');
    // An echo request too, so the RTT histogram gets a client → relay → client → relay → client sample.
    this.trySendData(a, b, this.stamped(TAG_ECHO, 13), false);
  }

  /** OOB needs no link: the relay delivers it by public key if the peer is connected. */
  sendOob(a: TbClient, b: TbClient, text: string): void {
    if (a === b) throw new Error('pick two different clients');
    const body = new TextEncoder().encode(text);
    const payload = new Uint8Array(1 + body.length);
    payload[0] = TAG_MESSAGE;
    payload.set(body, 1);
    if (payload.length > 1024) throw new Error('OOB data is 1024 bytes at most');
    this.send(a, encodeOobSend(b.key, payload));
    this.pulse(a, b, 'oob');
  }

  async ping(c: TbClient): Promise<number> {
    const client = c.client;
    if (!client || c.status !== 'ready') throw new Error(`${c.name} is not connected`);
    const id = randomPingId();
    this.addLog({ client: c, dir: '→', packet: decodeSent(encodePing(id)), text: '', level: 'ping' }, true);
    const began = performance.now();
    await client.ping(id);
    const ms = performance.now() - began;
    this.addRtt('ping', ms);
    return ms;
  }

  private autoPing(): void {
    for (const c of this.clients) {
      if (c.status !== 'ready' || !c.client) continue;
      const began = performance.now();
      const client = c.client;
      const id = randomPingId();
      if (this.showPings) this.addLog({ client: c, dir: '→', packet: decodeSent(encodePing(id)), text: '', level: 'ping' }, true);
      client.ping(id, 5_000).then(
        () => this.addRtt('ping', performance.now() - began),
        () => {},
      );
    }
  }

  private stamped(tag: number, size: number, seq = 0): Uint8Array {
    const payload = new Uint8Array(Math.max(13, size));
    const view = new DataView(payload.buffer);
    payload[0] = tag;
    view.setUint32(1, seq);
    view.setFloat64(5, performance.now());
    return payload;
  }

  private bursts = new Map<string, { sent: number; received: number; total: number; last: number; timer?: ReturnType<typeof setTimeout> }>();

  private burstReceived(from: TbClient, to: TbClient): void {
    const b = this.bursts.get(`${from.id}>${to.id}`);
    this.pulse(from, to, 'data');
    if (!b) return;
    b.received++;
    b.last = performance.now();
  }

  /**
   * `count` data packets of `size` bytes each way between a and b, paced in small batches; every
   * ECHO_EVERY-th is echoed for RTT. Resolves when all are sent; a summary is logged once the
   * receivers have been quiet for a second.
   */
  async burst(a: TbClient, b: TbClient, count: number, size: number): Promise<void> {
    count = Math.max(1, Math.min(MAX_BURST, Math.floor(count)));
    size = Math.max(13, Math.min(2000, Math.floor(size)));
    await this.link(a, b);
    this.info(`burst: ${count} packets of ${size} B each way, ${a.name} ⇄ ${b.name}`, a);
    const runs: Array<[TbClient, TbClient]> = [
      [a, b],
      [b, a],
    ];
    for (const [from, to] of runs) {
      const key = `${from.id}>${to.id}`;
      const old = this.bursts.get(key);
      if (old?.timer) clearTimeout(old.timer);
      this.bursts.set(key, { sent: 0, received: 0, total: count, last: performance.now() });
    }
    const BATCH = 50;
    for (let at = 0; at < count; at += BATCH) {
      for (const [from, to] of runs) {
        const record = this.bursts.get(`${from.id}>${to.id}`)!;
        for (let i = at; i < Math.min(count, at + BATCH); i++) {
          const seq = this.burstSeq++;
          // The log samples burst packets by their 6th byte; keep it varied, and 0 for 1 in 16.
          const payload = this.stamped(TAG_BURST, size, seq);
          if (!this.trySendData(from, to, payload, i % 100 === 0)) break;
          record.sent++;
        }
      }
      await sleep(4);
    }
    for (const [from, to] of runs) this.summarise(from, to);
  }

  private summarise(from: TbClient, to: TbClient): void {
    const key = `${from.id}>${to.id}`;
    const record = this.bursts.get(key);
    if (!record) return;
    record.timer = setTimeout(() => {
      if (performance.now() - record.last < 900 && record.received < record.sent) {
        this.summarise(from, to);
        return;
      }
      this.bursts.delete(key);
      const lost = record.sent - record.received;
      this.info(
        `burst ${from.name} → ${to.name}: ${record.sent} sent, ${record.received} received` +
          (lost > 0 ? ` (${lost} dropped: the relay drops data for a client whose backlog passed 64 KiB, or a side closed)` : ', none lost'),
        from,
        lost > 0 ? 'warn' : 'info',
      );
    }, 1000);
  }

  closeClient(c: TbClient): void {
    if (c.status !== 'ready' && c.status !== 'connecting') return;
    this.info('closing (the relay tells its linked peers)', c);
    c.status = 'closed';
    c.endedAt = performance.now();
    for (const end of c.links.values()) end.online = false;
    c.client?.close();
  }

  /** Closes every client (before a mode switch). */
  closeAll(): void {
    for (const c of this.clients) this.closeClient(c);
  }

  /** Closed clients stay on screen briefly, then leave the graph and lists. */
  prune(now: number): void {
    for (let i = this.clients.length - 1; i >= 0; i--) {
      const c = this.clients[i]!;
      if (c.endedAt !== undefined && now - c.endedAt > 2500) {
        this.clients.splice(i, 1);
        for (const other of this.clients) other.links.delete(c.id);
      }
    }
    while (this.pulses.length && now - this.pulses[0]!.start > 1500) this.pulses.shift();
  }

  dispose(): void {
    clearInterval(this.pingTimer);
    this.closeAll();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
