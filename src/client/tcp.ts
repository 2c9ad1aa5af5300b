// A Transport over a Node TCP socket. The one file of the client that may use Node modules; a
// browser build supplies a WebSocket transport instead.

import { connect, type Socket } from 'node:net';
import { writeTaken } from '../socket-write.ts';
import { HeldStream } from './held-stream.ts';
import type { Transport } from './transport.ts';

/** The first per-turn output buffer: a burst of frames fits without regrowing. */
const MIN_TURN_BUFFER = 16 * 1024;

class TcpTransport extends HeldStream implements Transport {
  private error: Error | undefined;
  private inTurn = false;
  private corked = false;
  private endScheduled = false;
  private out: Buffer | null = null;
  private outUsed = 0;
  private readonly endTurn = () => {
    this.endScheduled = false;
    this.corked = false;
    this.flush();
    this.inTurn = false;
  };

  constructor(private readonly socket: Socket) {
    super();
    socket.on('data', (buf: Buffer) => {
      // A plain view, not a Buffer: Buffer.slice() shares memory where Uint8Array.slice() copies.
      this.deliver(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength));
    });
    socket.on('error', (error) => {
      this.error ??= error;
    });
    socket.on('close', () => this.end());
  }

  /**
   * The first write of a turn of the event loop goes to the socket at once (a lone ping or reply
   * waits for nothing); later writes of the same turn are copied into one buffer that goes out at
   * the turn's end in a single socket write, so a client sending a burst of small frames (the
   * bench's do) costs two syscalls per turn, not one per frame. Every write is copied.
   */
  readonly copiesWrites = true;

  write(bytes: Uint8Array): void {
    if (this.socket.destroyed || this.socket.writableEnded) return;
    this.scheduleEndOfTurn();
    if (!this.inTurn && !this.corked) {
      this.inTurn = true;
      this.socket.write(Buffer.from(bytes)); // a copy from Node's pool: `bytes` may be reused
      return;
    }
    if (!this.out || this.outUsed + bytes.length > this.out.length) this.grow(bytes.length);
    this.out!.set(bytes, this.outUsed);
    this.outUsed += bytes.length;
  }

  /** Until uncork() (or the end of the turn at the latest), writes only gather. */
  cork(): void {
    this.corked = true;
    this.scheduleEndOfTurn();
  }

  /** Writes what was gathered in one piece. */
  uncork(): void {
    this.corked = false;
    this.flush();
  }

  private scheduleEndOfTurn(): void {
    if (this.endScheduled) return;
    this.endScheduled = true;
    setImmediate(this.endTurn);
  }

  private grow(more: number): void {
    const next = Buffer.allocUnsafe(Math.max(MIN_TURN_BUFFER, 2 * (this.outUsed + more)));
    if (this.out) this.out.copy(next, 0, 0, this.outUsed);
    this.out = next;
  }

  private flush(): void {
    if (this.outUsed === 0) return;
    const gathered = this.out!.subarray(0, this.outUsed);
    this.outUsed = 0;
    if (this.socket.destroyed || this.socket.writableEnded) return;
    if (this.socket.writableLength !== 0) {
      // The socket is still draining and would queue the whole buffer for these bytes: an exact
      // copy goes instead, and the buffer stays for the next turn.
      this.socket.write(Buffer.from(gathered));
      return;
    }
    // Taken at once, the buffer serves the next turn (no allocation per flush).
    if (!writeTaken(this.socket, gathered)) this.out = null;
  }

  close(): void {
    this.flush();
    // end() flushes what was written and sends FIN; destroying afterwards does not wait for the
    // peer's FIN, which a c-toxcore relay never answers (it notices dead sockets only by ping).
    if (this.socket.destroyed || this.socket.writableEnded) return;
    this.socket.end(() => this.socket.destroy());
  }


  protected endError(): Error | undefined {
    return this.error;
  }
}

/** Wraps a connected socket (the caller may keep it, e.g. to pause reading in a test). */
export function tcpTransport(socket: Socket): Transport {
  return new TcpTransport(socket);
}

/** Opens a TCP connection (Nagle off: relay traffic is many small frames) and resolves once it is up. */
export function connectTcp(host: string, port: number, options: { localAddress?: string } = {}): Promise<Transport> {
  return connectSocket(host, port, options).then(tcpTransport);
}

export function connectSocket(host: string, port: number, options: { localAddress?: string } = {}): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, ...options });
    const onError = (error: Error) => reject(error);
    socket.once('error', onError);
    socket.once('connect', () => {
      socket.off('error', onError);
      socket.setNoDelay(true);
      resolve(socket);
    });
  });
}
