// A Transport over a WHATWG-style WebSocket: the browser's, or the `ws` package's in Node (Node 20
// has no global WebSocket). The Tox byte stream travels in binary messages whose boundaries carry
// no meaning, as toxrelay's --ws-port and a websockify bridge in front of a c-toxcore relay expect.
// No Node module is imported here, so a browser bundle can use this file as it is.

import { HeldStream } from './held-stream.ts';
import type { Transport } from './transport.ts';

const CONNECTING = 0;
const OPEN = 1;

/** Close codes of a stream that ended rather than broke: normal, going away, no status given. */
const CLEAN_CLOSE_CODES = new Set([1000, 1001, 1005]);

/** What this transport uses of a WebSocket: the browser's and `ws`'s both have it. */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  send(data: Uint8Array<ArrayBuffer>): void;
  close(code?: number, reason?: string): void;
  // Method syntax, so that both the DOM's and ws's listener types are accepted.
  addEventListener(type: 'open' | 'message' | 'close' | 'error', listener: (event: WebSocketEventLike) => void): void;
}

/** The fields read from 'message', 'close' and 'error' events. */
export interface WebSocketEventLike {
  readonly type: string;
  /** 'message': an ArrayBuffer for a binary message (binaryType 'arraybuffer'), a string for text. */
  readonly data?: unknown;
  /** 'close' */
  readonly code?: number;
  readonly reason?: string;
  /** 'error' (ws gives one; a browser does not). */
  readonly message?: string;
}

export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

export interface WebSocketConnectOptions {
  /** Subprotocols to offer (websockify bridges may want 'binary'); default none. */
  protocols?: string | string[];
  /** connectWebSocket() gives up after this long (default 10 s). */
  timeoutMs?: number;
}

class WebSocketTransport extends HeldStream implements Transport {
  private error: Error | undefined;
  private closedLocally = false;

  constructor(private readonly ws: WebSocketLike) {
    super();
    ws.binaryType = 'arraybuffer';
    ws.addEventListener('message', (event) => this.message(event.data));
    ws.addEventListener('error', (event) => {
      this.error ??= new Error(`WebSocket error${event.message ? `: ${event.message}` : ''}`);
    });
    ws.addEventListener('close', (event) => {
      const code = event.code ?? 1005;
      if (!this.closedLocally && !CLEAN_CLOSE_CODES.has(code)) {
        this.error ??= new Error(`WebSocket closed with code ${code}${event.reason ? ` (${event.reason})` : ''}`);
      }
      this.end();
    });
  }

  write(bytes: Uint8Array): void {
    if (this.closedLocally || this.ws.readyState !== OPEN || bytes.length === 0) return;
    // The client's bytes live in ordinary ArrayBuffers (a browser's send() refuses shared memory).
    this.ws.send(bytes as Uint8Array<ArrayBuffer>);
  }

  close(): void {
    if (this.closedLocally) return;
    this.closedLocally = true;
    this.error = undefined; // whatever happens now, the stream was ended on purpose
    // A close frame follows the messages already sent, so they are flushed first.
    if (this.ws.readyState === OPEN || this.ws.readyState === CONNECTING) this.ws.close(1000);
  }


  private message(data: unknown): void {
    if (this.ended || this.closedLocally) return;
    let bytes: Uint8Array;
    if (data instanceof ArrayBuffer) bytes = new Uint8Array(data);
    else if (ArrayBuffer.isView(data)) bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    else {
      // A text message (or a Blob: binaryType was changed) is not part of a Tox stream.
      this.error ??= new Error('WebSocket: received a non-binary message');
      this.ws.close(1003, 'binary messages only');
      return;
    }
    if (bytes.length === 0) return;
    this.deliver(bytes);
  }

  protected endError(): Error | undefined {
    return this.closedLocally ? undefined : this.error;
  }
}

/**
 * Wraps a WebSocket (open or still connecting; binaryType is set to 'arraybuffer'). Bytes that
 * arrive before onData() are held, as with the TCP transport.
 */
export function webSocketTransport(ws: WebSocketLike): Transport {
  return new WebSocketTransport(ws);
}

/**
 * Opens a WebSocket to `url` (ws:// or wss://) and resolves once it is open. In a browser the
 * global WebSocket is used; in Node pass one, e.g. `import { WebSocket } from 'ws'`.
 */
export function connectWebSocket(url: string, WebSocketCtor?: WebSocketConstructor, options: WebSocketConnectOptions = {}): Promise<Transport> {
  const Ctor = WebSocketCtor ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (!Ctor) return Promise.reject(new Error('no WebSocket here: pass a WebSocket constructor (in Node: the ws package)'));
  return new Promise((resolve, reject) => {
    let ws: WebSocketLike;
    try {
      ws = options.protocols === undefined ? new Ctor(url) : new Ctor(url, options.protocols);
    } catch (error) {
      reject(error as Error);
      return;
    }
    const transport = new WebSocketTransport(ws);
    let settled = false;
    const timeoutMs = options.timeoutMs ?? 10_000;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      transport.close();
      reject(new Error(`WebSocket to ${url} not open within ${timeoutMs} ms`));
    }, timeoutMs);
    ws.addEventListener('open', () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(transport);
    });
    // Watched here rather than through transport.onClose(), which is the client's to set.
    ws.addEventListener('close', (event) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new Error(`WebSocket to ${url} closed before it opened (code ${event.code ?? 'none'})`));
    });
  });
}
