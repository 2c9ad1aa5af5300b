// Framing (PROTOCOL §2): after the handshake every unit on the stream is `len u16be ‖ len bytes`.
// Transport chunks have no relation to frames, so the reader keeps the chunks as they came and
// cuts frames out of them, copying only a frame that straddles chunks.

import { ClientError } from './errors.ts';

/** MAX_PACKET_SIZE: the largest `len` a relay accepts or sends. */
export const MAX_FRAME_LENGTH = 2048;
const PREFIX = 2;

/** Returns `len u16be ‖ body`. */
export function encodeFrame(body: Uint8Array): Uint8Array {
  if (body.length > 0xffff) throw new RangeError(`frame body of ${body.length} bytes does not fit a u16 length`);
  const frame = new Uint8Array(PREFIX + body.length);
  frame[0] = body.length >>> 8;
  frame[1] = body.length & 0xff;
  frame.set(body, PREFIX);
  return frame;
}

/** A FIFO of byte chunks, read from the front without joining them. */
export class ChunkQueue {
  private chunks: Uint8Array[] = [];
  private offset = 0; // bytes of chunks[0] already consumed
  private size = 0;

  get length(): number {
    return this.size;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  /** The byte `index` bytes from the front; the caller checks `index < length`. */
  peek(index: number): number {
    let at = this.offset + index;
    // An index loop, not for-of: this runs twice per received frame.
    for (let i = 0; i < this.chunks.length; i++) {
      const chunk = this.chunks[i]!;
      if (at < chunk.length) return chunk[at]!;
      at -= chunk.length;
    }
    throw new RangeError('peek past the end of the queue');
  }

  /** Drops the first `n` bytes. */
  skip(n: number): void {
    if (n > this.size) throw new RangeError(`skip ${n} of ${this.size} bytes`);
    while (n > 0) {
      const part = Math.min(n, this.chunks[0]!.length - this.offset);
      this.skipFirst(part);
      n -= part;
    }
  }

  /** Removes and returns the first `n` bytes; a view when they lie in one chunk, else a copy. */
  take(n: number): Uint8Array {
    if (n > this.size) throw new RangeError(`take ${n} of ${this.size} bytes`);
    const first = this.chunks[0];
    if (first && first.length - this.offset >= n) {
      const out = first.subarray(this.offset, this.offset + n);
      this.skipFirst(n);
      return out;
    }
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[0]!;
      const part = Math.min(n - filled, chunk.length - this.offset);
      out.set(chunk.subarray(this.offset, this.offset + part), filled);
      filled += part;
      this.skipFirst(part);
    }
    return out;
  }

  private skipFirst(n: number): void {
    this.offset += n;
    this.size -= n;
    if (this.offset === this.chunks[0]!.length) {
      this.chunks.shift();
      this.offset = 0;
    }
  }
}

/**
 * Cuts a byte stream into frame bodies. The handshake reply, which has no length prefix, is read
 * from the same stream with takeRaw() before the first frame.
 */
export class FrameReader {
  private readonly queue = new ChunkQueue();

  constructor(private readonly maxLength = MAX_FRAME_LENGTH) {}

  /** Bytes received and not yet returned. */
  get buffered(): number {
    return this.queue.length;
  }

  push(chunk: Uint8Array): void {
    this.queue.push(chunk);
  }

  /** The next `n` unframed bytes, or undefined until that many have arrived. */
  takeRaw(n: number): Uint8Array | undefined {
    return this.queue.length >= n ? this.queue.take(n) : undefined;
  }

  /**
   * The next complete frame body (possibly empty), or undefined while it is incomplete. Throws
   * FRAME_TOO_LONG as soon as a prefix above the limit is readable, as the relay does.
   */
  next(): Uint8Array | undefined {
    if (this.queue.length < PREFIX) return undefined;
    const length = (this.queue.peek(0) << 8) | this.queue.peek(1);
    if (length > this.maxLength) {
      throw new ClientError('FRAME_TOO_LONG', `frame length ${length} exceeds ${this.maxLength}`);
    }
    if (this.queue.length < PREFIX + length) return undefined;
    this.queue.skip(PREFIX);
    return this.queue.take(length);
  }
}
