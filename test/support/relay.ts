// A real relay on 127.0.0.1 (a free port, real sockets, real crypto) with a manual clock, and
// clients of it. Every test closes what it opened.

import { connect, type Socket } from 'node:net';
import { WebSocket } from 'ws';
import { RelayClient, type Transport } from '../../src/client/index.ts';
import { connectSocket, tcpTransport } from '../../src/client/tcp.ts';
import { webSocketTransport } from '../../src/client/ws.ts';
import { ManualClock } from '../../src/clock.ts';
import { loadSodium } from '../../src/crypto/sodium.ts';
import { silentLogger } from '../../src/log.ts';
import { RELAY_DEFAULTS, type RelayOptions } from '../../src/relay/options.ts';
import { startRelay } from '../../src/relay/server.ts';

export const sodium = await loadSodium();

export interface ClientOptions {
  serverPublicKey?: Uint8Array;
  keyPair?: { publicKey: Uint8Array; privateKey: Uint8Array };
  autoPong?: boolean;
  /** Another loopback source address (127.0.0.2 …), to look like another host. */
  localAddress?: string;
}

/** Links two confirmed clients (mutual routing requests, both notified); returns each side's conn id. */
export async function linkClients<A extends RelayClient, B extends RelayClient>(a: A, b: B) {
  const aUp = a.waitFor('connectNotification');
  const bUp = b.waitFor('connectNotification');
  a.routingRequest(b.publicKey);
  b.routingRequest(a.publicKey);
  const [na, nb] = await Promise.all([aUp, bUp]);
  return { a, b, aId: na.connId, bId: nb.connId };
}

export async function testRelay(overrides: Partial<RelayOptions> = {}) {
  const keys = sodium.crypto_box_keypair();
  const clock = new ManualClock(1_000_000);
  const running = await startRelay({
    ...RELAY_DEFAULTS,
    ports: [0],
    host: '127.0.0.1',
    publicKey: keys.publicKey,
    secretKey: keys.privateKey,
    logger: silentLogger,
    clock,
    autoTimers: false,
    ...overrides,
  });
  const port = running.ports[0]!;
  // Set when the relay was started with wsPorts (e.g. testRelay({ wsPorts: [0] })).
  const wsPort = running.wsPorts[0];
  const wsUrl = wsPort === undefined ? undefined : `ws://127.0.0.1:${wsPort}/`;
  const clients: RelayClient[] = [];
  const sockets: Socket[] = [];
  const webSockets: WebSocket[] = [];
  const newClient = (transport: Transport, options: ClientOptions) => {
    const c = new RelayClient({
      transport,
      serverPublicKey: options.serverPublicKey ?? keys.publicKey,
      keyPair: options.keyPair ? { publicKey: options.keyPair.publicKey, secretKey: options.keyPair.privateKey } : undefined,
      autoPong: options.autoPong,
      handshakeTimeoutMs: 3000,
      pingTimeoutMs: 3000,
    });
    clients.push(c);
    return c;
  };

  return {
    running,
    relay: running.relay,
    port,
    publicKey: keys.publicKey,
    secretKey: keys.privateKey,
    clock,
    /** A client over TCP that has not yet handshaken. */
    async client(options: ClientOptions = {}) {
      const socket = await connectSocket('127.0.0.1', port, { localAddress: options.localAddress });
      sockets.push(socket);
      return Object.assign(newClient(tcpTransport(socket), options), { socket });
    },
    /** A confirmed client. */
    async connected(options: ClientOptions = {}) {
      const c = await this.client(options);
      await c.connect();
      return c;
    },
    /** Two confirmed clients linked to each other; returns each side's conn id. */
    async linkedPair() {
      return linkClients(await this.connected(), await this.connected());
    },
    /** A raw socket, for bytes no client would send. */
    raw(): Promise<Socket> {
      return new Promise((resolve, reject) => {
        const s = connect(port, '127.0.0.1', () => resolve(s));
        s.once('error', reject);
        sockets.push(s);
      });
    },
    wsPort,
    wsUrl,
    /** An open WebSocket (the `ws` package's) to the relay's first WebSocket port. */
    rawWs(options: { localAddress?: string; protocols?: string[] } = {}): Promise<WebSocket> {
      if (!wsUrl) throw new Error('testRelay was started without wsPorts');
      const ws = new WebSocket(wsUrl, options.protocols ?? [], { localAddress: options.localAddress });
      webSockets.push(ws);
      return new Promise((resolve, reject) => {
        ws.once('open', () => {
          ws.off('error', reject);
          resolve(ws);
        });
        ws.once('error', reject);
      });
    },
    /**
     * A client over WebSocket that has not yet handshaken. `chunkSize` splits each write into
     * messages of at most that many bytes (1: every frame byte by byte).
     */
    async wsClient(options: ClientOptions & { chunkSize?: number } = {}) {
      const ws = await this.rawWs({ localAddress: options.localAddress });
      const transport = webSocketTransport(ws);
      const size = options.chunkSize;
      const split: Transport = size === undefined ? transport : {
        write: (bytes) => {
          for (let at = 0; at < bytes.length; at += size) transport.write(bytes.subarray(at, at + size));
        },
        close: () => transport.close(),
        onData: (receiver) => transport.onData(receiver),
        onClose: (handler) => transport.onClose(handler),
      };
      return Object.assign(newClient(split, options), { ws });
    },
    /** A confirmed client over WebSocket. */
    async wsConnected(options: ClientOptions & { chunkSize?: number } = {}) {
      const c = await this.wsClient(options);
      await c.connect();
      return c;
    },
    /** Advances the manual clock and runs one timer pass. */
    advance(ms: number) {
      clock.advance(ms);
      running.relay.runTimers();
    },
    async close() {
      for (const c of clients) c.close();
      for (const s of sockets) s.destroy();
      for (const ws of webSockets) ws.terminate();
      await running.close();
    },
  };
}

export type TestRelay = Awaited<ReturnType<typeof testRelay>>;

/** Resolves when the socket is closed by the other side; rejects if it is still open after ms. */
export function closedWithin(socket: Socket, ms = 2000): Promise<Buffer> {
  const received: Buffer[] = [];
  socket.on('data', (b: Buffer) => received.push(b));
  return new Promise((resolve, reject) => {
    if (socket.destroyed) return resolve(Buffer.concat(received));
    const timer = setTimeout(() => reject(new Error(`socket still open after ${ms} ms`)), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(received));
    });
  });
}

/** Resolves true if the socket is still open after ms (and nothing closed it). */
export function stillOpenAfter(socket: Socket, ms = 300): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      socket.off('close', onClose);
      resolve(!socket.destroyed);
    }, ms);
    const onClose = () => {
      clearTimeout(timer);
      resolve(false);
    };
    socket.once('close', onClose);
  });
}

export const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The bystander check: a linked pair still relays data both ways and answers pings. */
export async function pairStillWorks(pair: { a: RelayClient; b: RelayClient; aId: number; bId: number }): Promise<void> {
  const toB = pair.b.waitFor('data', (d) => d.data[0] === 0x42);
  pair.a.sendData(pair.aId, new Uint8Array([0x42, 1, 2]));
  const got = await toB;
  if (got.connId !== pair.bId) throw new Error(`data arrived on ${got.connId}, expected ${pair.bId}`);
  await pair.b.ping();
}
