// Outgoing frames, batched: during a turn of the event loop every sealed frame is copied into
// one arena and logged against its session; at the end of the turn each session gets a single
// buffer with all its frames and a single write. The arena is reused turn after turn, and a slow
// reader holds on to nothing but its own bytes.
//
// Platform-neutral: in Node the arena and the batches are Buffers (Buffer.copy and the pooled
// Buffer.allocUnsafe, as fast as it gets); in a browser (the in-page relay) plain Uint8Arrays.

import type { Session } from './session.ts';
import { atEndOfTurn } from './turn.ts';

/** Node's Buffer when there is one, found on globalThis so that a browser bundle needs no shim. */
const NodeBuffer: typeof Buffer | undefined = (globalThis as { Buffer?: typeof Buffer }).Buffer;

const ARENA_SIZE = 1 << 20;
const MAX_FRAMES = 1 << 15;
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
  private readonly frameSessions: (Session | null)[] = new Array(MAX_FRAMES).fill(null);
  private frameCount = 0;
  private readonly dirty: Session[] = [];
  private scheduled = false;
  private readonly flushNow = () => this.flush();

  constructor(private readonly flushAtBytes = DEFAULT_FLUSH_AT_BYTES) {}

  append(session: Session, frame: Uint8Array): void {
    if (this.used + frame.length > ARENA_SIZE || this.frameCount === MAX_FRAMES) this.flush();
    this.arena.set(frame, this.used);
    const i = this.frameCount++;
    this.frameOffsets[i] = this.used;
    this.frameLengths[i] = frame.length;
    this.frameSessions[i] = session;
    this.used += frame.length;
    if (!session.batched) {
      session.batched = true;
      this.dirty.push(session);
    }
    session.turnBytes += frame.length;
    if (!this.scheduled) {
      this.scheduled = true;
      atEndOfTurn(this.flushNow);
    }
    if (session.turnBytes >= this.flushAtBytes) this.flushSession(session);
  }

  /** Writes one session's frames now; the other sessions' stay batched until the end of the turn. */
  private flushSession(session: Session): void {
    const buffer = this.allocate(session.turnBytes);
    let fill = 0;
    for (let i = 0; i < this.frameCount; i++) {
      if (this.frameSessions[i] !== session) continue;
      this.frameSessions[i] = null;
      fill += this.copyOut(i, buffer, fill);
    }
    session.turnBytes = 0;
    if (session.alive) session.wire.write(buffer);
  }

  flush(): void {
    this.scheduled = false;
    for (const s of this.dirty) {
      if (s.alive && s.turnBytes > 0) {
        s.turnBuffer = this.allocate(s.turnBytes);
        s.turnFill = 0;
      }
    }
    for (let i = 0; i < this.frameCount; i++) {
      const s = this.frameSessions[i];
      if (!s) continue; // already written by flushSession()
      this.frameSessions[i] = null;
      if (!s.turnBuffer) continue; // closed during the turn: the frame is discarded
      s.turnFill += this.copyOut(i, s.turnBuffer, s.turnFill);
    }
    for (const s of this.dirty) {
      const buffer = s.turnBuffer;
      s.turnBuffer = null;
      s.turnBytes = 0;
      s.batched = false;
      if (buffer && s.alive) s.wire.write(buffer);
    }
    this.dirty.length = 0;
    this.frameCount = 0;
    this.used = 0;
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
