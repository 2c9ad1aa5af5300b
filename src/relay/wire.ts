// What the relay needs of a client's byte stream, so TCP, WebSocket and the in-page memory wire
// (memory-wire.ts) share one path. The relay imports only the Wire type from here.

import { isIPv6, type Socket } from 'node:net';
import { writeTaken } from '../socket-write.ts';

export interface Wire {
  /**
   * Queues bytes; the wire keeps the buffer, which must not be reused by the caller. In Node the
   * relay's output is a Buffer (a Uint8Array); elsewhere a plain Uint8Array.
   */
  write(bytes: Uint8Array): void;
  /**
   * Optional: writes bytes the caller wants to reuse. Returns true when the wire is done with
   * them already (the kernel took them all), false when it keeps them as write() does.
   */
  writeBorrowed?(bytes: Uint8Array): boolean;
  /** Bytes accepted by write() and not yet handed to the kernel. */
  pendingBytes(): number;
  /** Closes at once, discarding anything unsent. */
  destroy(): void;
  readonly remoteAddress: string;
}

/**
 * The key the per-address cap counts by: an IPv4 address (also when it reaches a dual-stack
 * socket as ::ffff:a.b.c.d), or an IPv6 /64 — one host usually holds a whole /64, so counting
 * single IPv6 addresses would let it open as many connections as it likes.
 */
export function normalizeAddress(address: string | undefined): string {
  if (!address) return 'unknown';
  if (address.startsWith('::ffff:') && address.includes('.')) return address.slice(7);
  if (!isIPv6(address)) return address;
  return `${expandIPv6(address).slice(0, 4).join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address (no embedded IPv4 form: handled above). */
function expandIPv6(address: string): string[] {
  const [head, tail] = address.split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : new Array(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((g) => (parseInt(g, 16) || 0).toString(16));
}

/** A TCP socket as a wire. A class, so that each connection costs its fields and no closures. */
export class TcpWire implements Wire {
  readonly remoteAddress: string;
  constructor(readonly socket: Socket) {
    this.remoteAddress = normalizeAddress(socket.remoteAddress);
  }
  write(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }
  writeBorrowed(bytes: Uint8Array): boolean {
    return writeTaken(this.socket, bytes);
  }
  pendingBytes(): number {
    return this.socket.writableLength;
  }
  destroy(): void {
    this.socket.destroy();
  }
}
