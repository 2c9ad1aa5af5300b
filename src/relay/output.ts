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
// A session's batch is handed to the kernel once it reaches this size, so that batching never
// looks like a backlog to the drop rule (which counts bytes the client has not taken).
const SESSION_FLUSH_BYTES = 16 * 1024;

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

  append(session: Session, frame: Uint8Array): void {
    if (this.used + frame.length > ARENA_SIZE || this.frameCount === MAX_FRAMES) this.flush();
    this.arena.set(frame, this.used);
    const i = this.frameCount++;
    this.frameOffsets[i] = this.used;
    this.frameLengths[i] = frame.length;
    this.frameSessions[i] = session;
    this.used += frame.length;
    if (session.turnBytes === 0) this.dirty.push(session);
    session.turnBytes += frame.length;
    if (session.turnBytes >= SESSION_FLUSH_BYTES) {
      this.flush();
      return;
    }
    if (!this.scheduled) {
      this.scheduled = true;
      atEndOfTurn(this.flushNow);
    }
  }

  flush(): void {
    this.scheduled = false;
    for (const s of this.dirty) {
      if (s.alive) {
        s.turnBuffer = NodeBuffer ? NodeBuffer.allocUnsafe(s.turnBytes) : new Uint8Array(s.turnBytes);
        s.turnFill = 0;
      }
    }
    const nodeArena = this.nodeArena;
    for (let i = 0; i < this.frameCount; i++) {
      const s = this.frameSessions[i]!;
      this.frameSessions[i] = null;
      if (!s.turnBuffer) continue; // closed during the turn: the frame is discarded
      const at = this.frameOffsets[i]!;
      const end = at + this.frameLengths[i]!;
      if (nodeArena) s.turnFill += nodeArena.copy(s.turnBuffer, s.turnFill, at, end);
      else {
        s.turnBuffer.set(this.arena.subarray(at, end), s.turnFill);
        s.turnFill += end - at;
      }
    }
    for (const s of this.dirty) {
      const buffer = s.turnBuffer;
      s.turnBuffer = null;
      s.turnBytes = 0;
      if (buffer && s.alive) s.wire.write(buffer);
    }
    this.dirty.length = 0;
    this.frameCount = 0;
    this.used = 0;
  }
}
