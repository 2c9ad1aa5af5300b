// Outgoing frames, batched: during a turn of the event loop every sealed frame is copied into
// one arena and chained to its session's list; at the end of the turn each session's frames are
// gathered into one buffer and written at once. The arena is reused turn after turn, and a slow
// reader holds on to nothing but its own bytes.
//
// The gathering buffer is reused too when the wire can tell that the kernel took the bytes at
// once (Wire.writeBorrowed; TCP can): in a steady flow no buffer is allocated per write, which
// spares the allocation and the garbage collection of every relayed byte. A wire that keeps what
// it is given (WebSocket, the in-page wire) gets a buffer of its own per write.
//
// Platform-neutral: in Node the arena and the batches are Buffers (Buffer.copy and the pooled
// Buffer.allocUnsafe, as fast as it gets); in a browser (the in-page relay) plain Uint8Arrays.

import type { Session } from './session.ts';
import { atEndOfTurn } from './turn.ts';

/** Node's Buffer when there is one, found on globalThis so that a browser bundle needs no shim. */
const NodeBuffer: typeof Buffer | undefined = (globalThis as { Buffer?: typeof Buffer }).Buffer;

const ARENA_SIZE = 1 << 20;
const MAX_FRAMES = 1 << 15;
const NO_FRAME = -1;
/**
 * A session's batch is handed to the kernel once it reaches this size, the others stay batched.
 * Bigger batches mean fewer writes (each costs ~20-40 µs of kernel time on loopback, whatever its
 * size), but a batch counts towards the session's backlog, so it must stay well below the drop
 * threshold: the relay passes half of that when it is lower.
 */
export const DEFAULT_FLUSH_AT_BYTES = 32 * 1024;

export class OutputBatcher {
  private readonly nodeArena: Buffer | null = NodeBuffer ? NodeBuffer.allocUnsafeSlow(ARENA_SIZE) : null;
  private readonly arena: Uint8Array = this.nodeArena ?? new Uint8Array(ARENA_SIZE);
  private used = 0;
  private readonly frameOffsets = new Int32Array(MAX_FRAMES);
  private readonly frameLengths = new Int32Array(MAX_FRAMES);
  /** The next frame of the same session, or NO_FRAME: each session's frames form a list. */
  private readonly frameNext = new Int32Array(MAX_FRAMES);
  private frameCount = 0;
  private readonly dirty: Session[] = [];
  /** Gathering buffer for wires that give it back (writeBorrowed); replaced when one keeps it. */
  private scratch: Uint8Array | null = null;
  private scheduled = false;
  private readonly flushNow = () => this.flush();

  constructor(private readonly flushAtBytes = DEFAULT_FLUSH_AT_BYTES) {}

  append(session: Session, frame: Uint8Array): void {
    if (this.used + frame.length > ARENA_SIZE || this.frameCount === MAX_FRAMES) this.flush();
    this.arena.set(frame, this.used);
    const i = this.frameCount++;
    this.frameOffsets[i] = this.used;
    this.frameLengths[i] = frame.length;
    this.frameNext[i] = NO_FRAME;
    this.used += frame.length;
    if (!session.batched) {
      session.batched = true;
      this.dirty.push(session);
    }
    if (session.firstFrame === NO_FRAME) session.firstFrame = i;
    else this.frameNext[session.lastFrame] = i;
    session.lastFrame = i;
    session.turnBytes += frame.length;
    if (!this.scheduled) {
      this.scheduled = true;
      atEndOfTurn(this.flushNow);
    }
    if (session.turnBytes >= this.flushAtBytes) this.write(session);
  }

  flush(): void {
    this.scheduled = false;
    for (const s of this.dirty) {
      this.write(s);
      s.batched = false;
    }
    this.dirty.length = 0;
    this.frameCount = 0;
    this.used = 0;
  }

  /** Gathers one session's batched frames and writes them; a closed session's are discarded. */
  private write(session: Session): void {
    const size = session.turnBytes;
    const first = session.firstFrame;
    session.turnBytes = 0;
    session.firstFrame = NO_FRAME;
    if (first === NO_FRAME || !session.alive) return;
    const wire = session.wire;
    // Lend the scratch only to a wire with nothing queued: one still draining would keep the
    // whole scratch for a few bytes, write after write (a slow reader could pin megabytes).
    const borrow = wire.writeBorrowed !== undefined && wire.pendingBytes() === 0;
    const buffer = borrow ? this.scratchOf(size) : this.allocate(size);
    let fill = 0;
    for (let i = first; i !== NO_FRAME; i = this.frameNext[i]!) fill += this.copyOut(i, buffer, fill);
    if (!borrow) {
      wire.write(buffer);
      return;
    }
    const bytes = buffer.length === size ? buffer : buffer.subarray(0, size);
    if (!wire.writeBorrowed!(bytes)) this.scratch = null; // the wire keeps it: gather into a new one
  }

  private scratchOf(size: number): Uint8Array {
    if (!this.scratch || this.scratch.length < size) this.scratch = this.allocate(Math.max(size, DEFAULT_FLUSH_AT_BYTES * 2));
    return this.scratch;
  }

  private allocate(size: number): Uint8Array {
    return NodeBuffer ? NodeBuffer.allocUnsafe(size) : new Uint8Array(size);
  }

  /** Copies frame i from the arena into `to` at `at`; returns its length. */
  private copyOut(i: number, to: Uint8Array, at: number): number {
    const from = this.frameOffsets[i]!;
    const end = from + this.frameLengths[i]!;
    if (this.nodeArena) return this.nodeArena.copy(to, at, from, end);
    to.set(this.arena.subarray(from, end), at);
    return end - from;
  }
}
