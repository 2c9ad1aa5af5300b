// Two Transports joined back to back in memory: what one writes, the other receives. For tests
// that want a relay client (or a hand-written peer) without sockets.
//
// Delivery is asynchronous (a microtask per write), as on a real socket, so a handler never runs
// inside the write() that triggered it.

import { HeldStream } from './held-stream.ts';
import type { Transport } from './transport.ts';

export interface MemoryTransportOptions {
  /** Splits each write into chunks of at most this many bytes (1 exercises every reassembly path). */
  chunkSize?: number;
}

class MemoryEnd extends HeldStream implements Transport {
  peer!: MemoryEnd;
  private closing = false; // no more writes from this end

  constructor(private readonly chunkSize: number) {
    super();
  }

  write(bytes: Uint8Array): void {
    if (this.closing || bytes.length === 0) return;
    const copy = bytes.slice(); // the caller may reuse its array; a socket would have copied too
    const peer = this.peer;
    queueMicrotask(() => {
      for (let at = 0; at < copy.length; at += this.chunkSize) {
        peer.deliver(copy.subarray(at, at + this.chunkSize));
      }
    });
  }

  close(): void {
    if (this.closing) return;
    this.closing = true;
    this.peer.closing = true;
    // Queued behind any pending writes, so both ends see every byte before the close.
    queueMicrotask(() => {
      this.end();
      this.peer.end();
    });
  }


  protected endError(): undefined {
    return undefined;
  }
}

/** Returns two connected ends: bytes written to one arrive at the other. */
export function memoryTransportPair(options: MemoryTransportOptions = {}): [Transport, Transport] {
  const chunkSize = options.chunkSize ?? Infinity;
  if (!(chunkSize >= 1)) throw new RangeError('chunkSize must be at least 1');
  const a = new MemoryEnd(chunkSize);
  const b = new MemoryEnd(chunkSize);
  a.peer = b;
  b.peer = a;
  return [a, b];
}
