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

export function tcpWire(socket: Socket): Wire {
  return {
    write: (bytes) => void socket.write(bytes),
    pendingBytes: () => socket.writableLength,
    destroy: () => socket.destroy(),
    remoteAddress: normalizeAddress(socket.remoteAddress),
  };
}
