// Outgoing frames, batched: during a turn of the event loop every sealed frame is copied into
// one arena and logged against its session; at the end of the turn each session gets a single
// buffer with all its frames and a single write. The arena is reused turn after turn, and a slow
// reader holds on to nothing but its own bytes.

import type { Session } from './session.ts';

const ARENA_SIZE = 1 << 20;
const MAX_FRAMES = 1 << 15;
// A session's batch is handed to the kernel once it reaches this size, so that batching never
// looks like a backlog to the drop rule (which counts bytes the client has not taken).
const SESSION_FLUSH_BYTES = 16 * 1024;

export class OutputBatcher {
  private readonly arena = Buffer.allocUnsafeSlow(ARENA_SIZE);
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
      setImmediate(this.flushNow);
    }
  }

  flush(): void {
    this.scheduled = false;
    for (const s of this.dirty) {
      if (s.alive) {
        s.turnBuffer = Buffer.allocUnsafe(s.turnBytes);
        s.turnFill = 0;
      }
    }
    for (let i = 0; i < this.frameCount; i++) {
      const s = this.frameSessions[i]!;
      this.frameSessions[i] = null;
      if (!s.turnBuffer) continue; // closed during the turn: the frame is discarded
      const at = this.frameOffsets[i]!;
      s.turnFill += this.arena.copy(s.turnBuffer, s.turnFill, at, at + this.frameLengths[i]!);
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
