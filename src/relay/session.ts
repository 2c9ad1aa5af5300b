// The host's side of one client connection: its wire, its core slot, and this turn's output.

import type { Wire } from './wire.ts';

export class Session {
  alive = true;
  /** Bytes of frames gathered for this connection during the current turn (see output.ts). */
  turnBytes = 0;
  /** On the batcher's list of sessions with output this turn. */
  batched = false;
  /** This turn's frames in the batcher's arena: a list from firstFrame to lastFrame (-1: none). */
  firstFrame = -1;
  lastFrame = -1;

  constructor(
    readonly slot: number,
    readonly wire: Wire,
  ) {}

  /** Bytes written or about to be written that the client has not yet taken. */
  backlog(): number {
    return this.wire.pendingBytes() + this.turnBytes;
  }
}
