// Two Transports joined back to back in memory: what one writes, the other receives. For tests
// that want a relay client (or a hand-written peer) without sockets.
//
// Delivery is asynchronous (a microtask per write), as on a real socket, so a handler never runs
// inside the write() that triggered it.

import type { Transport } from './transport.ts';

export interface MemoryTransportOptions {
  /** Splits each write into chunks of at most this many bytes (1 exercises every reassembly path). */
  chunkSize?: number;
}

class MemoryEnd implements Transport {
  peer!: MemoryEnd;
  private receiver: ((bytes: Uint8Array) => void) | undefined;
  private closeHandler: ((error?: Error) => void) | undefined;
  private held: Uint8Array[] = [];
  private closing = false; // no more writes from this end
  private ended = false; // the close handler is due (or done)
  private endNotified = false;

  constructor(private readonly chunkSize: number) {}

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

  private deliver(chunk: Uint8Array): void {
    if (this.ended) return;
    if (this.receiver) this.receiver(chunk);
    else this.held.push(chunk);
  }

  private end(): void {
    this.ended = true;
    this.notifyEnd();
  }

  private notifyEnd(): void {
    if (this.endNotified || !this.closeHandler) return;
    this.endNotified = true;
    this.closeHandler();
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
