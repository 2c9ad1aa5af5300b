// A Transport over a Node TCP socket. The one file of the client that may use Node modules; a
// browser build supplies a WebSocket transport instead.

import { connect, type Socket } from 'node:net';
import type { Transport } from './transport.ts';

class TcpTransport implements Transport {
  private receiver: ((bytes: Uint8Array) => void) | undefined;
  private closeHandler: ((error?: Error) => void) | undefined;
  private held: Uint8Array[] = [];
  private error: Error | undefined;
  private ended = false;
  private endNotified = false;

  constructor(private readonly socket: Socket) {
    socket.on('data', (buf: Buffer) => {
      // A plain view, not a Buffer: Buffer.slice() shares memory where Uint8Array.slice() copies.
      const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
      if (this.receiver) this.receiver(bytes);
      else this.held.push(bytes);
    });
    socket.on('error', (error) => {
      this.error ??= error;
    });
    socket.on('close', () => {
      this.ended = true;
      this.notifyEnd();
    });
  }

  write(bytes: Uint8Array): void {
    if (this.socket.destroyed || this.socket.writableEnded) return;
    this.socket.write(bytes);
  }

  close(): void {
    // end() flushes what was written and sends FIN; destroying afterwards does not wait for the
    // peer's FIN, which a c-toxcore relay never answers (it notices dead sockets only by ping).
    if (this.socket.destroyed || this.socket.writableEnded) return;
    this.socket.end(() => this.socket.destroy());
  }

  onData(receiver: (bytes: Uint8Array) => void): void {
    this.receiver = receiver;
    const held = this.held;
    this.held = [];
    for (const chunk of held) receiver(chunk);
  }

  onClose(handler: (error?: Error) => void): void {
    this.closeHandler = handler;
    if (this.ended) this.notifyEnd();
  }

  private notifyEnd(): void {
    if (this.endNotified || !this.closeHandler) return;
    this.endNotified = true;
    this.closeHandler(this.error);
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
