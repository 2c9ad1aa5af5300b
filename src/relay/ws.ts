// WebSocket listeners: the same Tox byte stream as TCP, carried in binary WebSocket messages
// whose boundaries mean nothing (a client may split or join frames across messages, as behind
// c-toxcore's websockify bridge). Each accepted WebSocket becomes a WsWire and goes through
// relay.attach / receive / disconnected exactly as a TCP socket does (see server.ts).

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type ServerOptions } from 'ws';
import { CloseReason } from '../core/exports.ts';
import { AddressCounts } from './address-counts.ts';
import type { Relay } from './relay.ts';
import type { Session } from './session.ts';
import { normalizeAddress, type Wire } from './wire.ts';

/**
 * Largest WebSocket message accepted. Message boundaries carry no meaning, so a client never
 * needs a big one (a Tox frame is at most 2 + 2048 bytes); 64 KiB leaves room for clients that
 * join many frames, and bounds what the ws library buffers for one connection before the
 * relay sees a byte. A larger message closes that connection with 1009.
 */
export const WS_MAX_MESSAGE_BYTES = 64 * 1024;

/**
 * How long a WebSocket closing handshake may take once the relay (or the ws library, on a
 * protocol error) sent its close frame, before the socket is destroyed. The session is
 * already gone by then: this only bounds the socket.
 */
export const WS_CLOSE_TIMEOUT_MS = 2_000;
/**
 * Fragments of one message, and raw chunks waiting to be parsed. ws keeps each as an object
 * until the message ends, and its defaults (16,384 and 262,144) let a client that sends a message
 * in 1-byte fragments and never ends it hold ~25 times the bytes it sent, out of the relay's
 * sight. Message boundaries mean nothing here, so a client never needs many.
 */
export const WS_MAX_FRAGMENTS = 64;
const WS_MAX_BUFFERED_CHUNKS = 1024;

/** The HTTP side of a WebSocket port: time to send the upgrade request's headers. */
const HTTP_HEADERS_TIMEOUT_MS = 10_000;

const LISTEN_BACKLOG = 256;

/** The subprotocol websockify's clients ask for; the bytes are raw in binary messages either way. */
const BINARY_SUBPROTOCOL = 'binary';

/** A WebSocket as a wire (see TcpWire). */
export class WsWire implements Wire {
  readonly remoteAddress: string;
  constructor(
    readonly ws: WebSocket,
    /** The upgraded TCP socket beneath the WebSocket. */
    private readonly socket: Duplex,
    remoteAddress: string | undefined,
  ) {
    this.remoteAddress = normalizeAddress(remoteAddress);
  }
  write(bytes: Buffer): void {
    // After close, ws would count the bytes in bufferedAmount forever; drop them instead.
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(bytes, { binary: true });
  }
  pendingBytes(): number {
    return this.ws.bufferedAmount;
  }
  destroy(): void {
    if (this.ws.readyState === WebSocket.CLOSING) {
      // A close frame (1003, 1009, 1002 …) is on its way: let it reach the client, then FIN.
      // ws's closeTimeout destroys the socket if the client never finishes the handshake.
      this.socket.end();
      return;
    }
    this.ws.terminate();
  }
  /** Closes with a WebSocket close code (1003 for a text message), then as destroy(). */
  refuse(code: number, reason: string): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(code, reason);
  }
}

export interface WsListener {
  readonly server: Server;
  readonly wss: WebSocketServer;
}

export interface WsHandlers {
  /** A WebSocket that completed its upgrade. */
  onWebSocket(ws: WebSocket, socket: Duplex, request: IncomingMessage): void;
  /** A socket refused before its upgrade: its address holds --max-per-ip sockets on WebSocket ports. */
  onRefusedPerIp?(): void;
}


/**
 * Tags a listen error with the listener's kind, so the CLI can say "WebSocket port N" rather
 * than "TCP port N".
 */
export interface WsListenError extends Error {
  listener: 'WebSocket';
}

export async function listenAllWs(
  ports: number[],
  host: string | undefined,
  caps: { maxConnections: number; maxPerIp: number },
  handlers: WsHandlers,
): Promise<WsListener[]> {
  const listeners: WsListener[] = [];
  // Sockets on the WebSocket ports by address, at every stage: the relay's own count sees a
  // WebSocket only once it is upgraded, and before that one address could hold every socket the
  // HTTP server takes and keep all other WebSocket clients out.
  const perAddress = new AddressCounts(caps.maxPerIp);
  try {
    for (const port of ports) listeners.push(await listenOneWs(port, host, caps.maxConnections, perAddress, handlers));
  } catch (error) {
    await Promise.all(listeners.map(closeWsListener));
    if (error instanceof Error) (error as WsListenError).listener = 'WebSocket';
    throw error;
  }
  return listeners;
}

function listenOneWs(port: number, host: string | undefined, maxConnections: number, perAddress: AddressCounts, handlers: WsHandlers): Promise<WsListener> {
  // closeTimeout is in ws 8.23 (package.json asks for it); @types/ws does not list it yet.
  const wsOptions: ServerOptions & { closeTimeout: number } = {
    noServer: true,
    maxPayload: WS_MAX_MESSAGE_BYTES,
    maxFragments: WS_MAX_FRAGMENTS,
    maxBufferedChunks: WS_MAX_BUFFERED_CHUNKS,
    perMessageDeflate: false, // the payload is ciphertext: nothing to gain, and a decompression bomb to fear
    clientTracking: false, // server.ts keeps its own set
    closeTimeout: WS_CLOSE_TIMEOUT_MS,
    handleProtocols: (protocols) => (protocols.has(BINARY_SUBPROTOCOL) ? BINARY_SUBPROTOCOL : false),
  };
  const wss = new WebSocketServer(wsOptions);
  // A plain HTTP request (not an upgrade) gets 426 and the connection is closed.
  // connectionsCheckingInterval: how often the headers timeout is checked (Node's default is 30 s).
  const server = createServer({ noDelay: true, connectionsCheckingInterval: 2_000 }, (_request: IncomingMessage, response: ServerResponse) => {
    const body = 'This is a Tox relay: connect with a WebSocket (binary messages).\n';
    response.shouldKeepAlive = false;
    response.writeHead(426, {
      Upgrade: 'websocket',
      Connection: 'Upgrade, close',
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
    });
    response.end(body);
  });
  server.headersTimeout = HTTP_HEADERS_TIMEOUT_MS;
  server.requestTimeout = HTTP_HEADERS_TIMEOUT_MS;
  // Sockets at the HTTP stage are not yet relay connections; bound them all the same.
  server.maxConnections = maxConnections;
  server.on('connection', (socket: Socket) => {
    const address = normalizeAddress(socket.remoteAddress);
    if (perAddress.full(address)) {
      handlers.onRefusedPerIp?.();
      socket.destroy();
      return;
    }
    perAddress.add(address);
    socket.once('close', () => perAddress.remove(address));
  });
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    // ws answers a bad upgrade (no key, wrong version, not "websocket") with 400 and closes it.
    wss.handleUpgrade(request, socket, head, (ws) => handlers.onWebSocket(ws, socket, request));
  });
  return new Promise((resolve, reject) => {
    const fail = (error: Error) => {
      wss.close();
      reject(error);
    };
    server.once('error', fail);
    server.listen({ port, host, backlog: LISTEN_BACKLOG, ipv6Only: false }, () => {
      server.off('error', fail);
      resolve({ server, wss });
    });
  });
}

export function closeWsListener(listener: WsListener): Promise<void> {
  return new Promise((resolve) => {
    listener.wss.close();
    listener.server.close(() => resolve());
    listener.server.closeAllConnections();
  });
}

export function boundWsPort(listener: WsListener): number {
  const address = listener.server.address();
  return typeof address === 'object' && address ? address.port : 0;
}

/** Accepted WebSockets as relay sessions: the same path as TCP (see tcp.ts). */
export class WsSessions {
  private readonly webSockets = new Set<WebSocket>();
  private readonly sessionOf = new WeakMap<WebSocket, Session>();
  private readonly onMessage: (this: WebSocket, data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => void;
  private readonly onGone: (this: WebSocket) => void;
  private readonly onClose: (this: WebSocket) => void;

  /** `afterInput` runs after each message is handled (the busy poller's poke). */
  constructor(
    private readonly relay: Relay,
    afterInput: () => void = () => {},
  ) {
    const { webSockets, sessionOf } = this;
    this.onMessage = function (data, isBinary) {
      const session = sessionOf.get(this);
      if (!session) return;
      if (!isBinary) {
        // The Tox stream is bytes; a text message is not part of it.
        (session.wire as WsWire).refuse(1003, 'binary messages only');
        relay.close(session, CloseReason.UNSUPPORTED);
        return;
      }
      // binaryType is 'nodebuffer' (ws's default): one Buffer per message, fragments joined.
      relay.receive(session, data as Buffer);
      afterInput();
    };
    const onGone = function (this: WebSocket) {
      const session = sessionOf.get(this);
      if (session) relay.disconnected(session);
    };
    this.onGone = onGone;
    this.onClose = function () {
      webSockets.delete(this);
      onGone.call(this);
    };
  }

  accept(ws: WebSocket, socket: Duplex, request: IncomingMessage): void {
    // 'error' comes with a protocol violation (oversize message, bad frame): ws has already sent
    // its close frame; the session goes now, the socket once the frame is out. Listened to
    // before attach(), so that a refused WebSocket has a listener too.
    ws.on('error', this.onGone);
    const session = this.relay.attach(new WsWire(ws, socket, request.socket.remoteAddress));
    if (!session) return;
    this.sessionOf.set(ws, session);
    this.webSockets.add(ws);
    ws.on('message', this.onMessage);
    ws.on('close', this.onClose);
  }

  closeAll(): void {
    for (const ws of this.webSockets) ws.terminate();
  }
}
