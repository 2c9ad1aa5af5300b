// What the relay needs of a client's byte stream, so TCP and (later) WebSocket share one path.

import type { Socket } from 'node:net';

export interface Wire {
  /** Queues bytes; the wire keeps the buffer, which must not be reused by the caller. */
  write(bytes: Buffer): void;
  /** Bytes accepted by write() and not yet handed to the kernel. */
  pendingBytes(): number;
  /** Closes at once, discarding anything unsent. */
  destroy(): void;
  readonly remoteAddress: string;
}

/** c-toxcore's per-IP accounting sees IPv4 clients of a dual-stack socket as IPv4. */
export function normalizeAddress(address: string | undefined): string {
  if (!address) return 'unknown';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/** A TCP socket as a wire. A class, so that each connection costs its fields and no closures. */
export class TcpWire implements Wire {
  readonly remoteAddress: string;
  constructor(readonly socket: Socket) {
    this.remoteAddress = normalizeAddress(socket.remoteAddress);
  }
  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }
  pendingBytes(): number {
    return this.socket.writableLength;
  }
  destroy(): void {
    this.socket.destroy();
  }
}
