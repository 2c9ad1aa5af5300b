// The relay host: it feeds each client's bytes to the core, does the crypto the core cannot,
// and carries out the core's decisions. A packet's path through this file:
//
//   receive(): bytes → core input → nextFrame → handshake or open (decrypt into the core)
//              → core.acceptFrame → perform(): each SEND is sealed and batched, each KILL closed

import type { Action, CoreInstance } from '../core/instance.ts';
import { ActionKind, CloseReason, closeReasonName, ConnectionState, INPUT_AREA_SIZE } from '../core/exports.ts';
import { MAX_PLAINTEXT_SIZE, type FrameBox } from '../crypto/box.ts';
import type { RelayOptions } from './options.ts';
import type { Handshaker } from './handshake.ts';
import { AddressCounts } from './address-counts.ts';
import { DEFAULT_FLUSH_AT_BYTES, OutputBatcher } from './output.ts';
import { OutputBudget } from './output-budget.ts';
import { Session } from './session.ts';
import type { Wire } from './wire.ts';
import { RelayStats } from './stats.ts';

/** The UDP side (src/udp), when enabled: it carries onion and forward requests out. */
export interface UdpRequests {
  onion?(slot: number, identifier: bigint, plaintext: Uint8Array): void;
  forward?(slot: number, identifier: bigint, plaintext: Uint8Array): void;
}

/** An unconfirmed connection this young is not closed to make room (see evictOldestUnconfirmed). */
export const EVICT_AFTER_MS = 2000;

export class Relay {
  readonly stats = new RelayStats();
  private readonly sessions: (Session | undefined)[] = [];
  private readonly perAddress: AddressCounts;
  private readonly output: OutputBatcher;
  private readonly action: Action = { kind: 0, priority: false, reason: 0, slot: 0, ptr: 0, len: 0 };
  private readonly deferredCloses: Session[] = [];
  private readonly outputBudget: OutputBudget;
  private performing = false;
  private shuttingDown = false;
  private udp: UdpRequests = {};

  constructor(
    private readonly core: CoreInstance,
    private readonly box: FrameBox,
    private readonly handshaker: Handshaker,
    private readonly options: RelayOptions,
  ) {
    this.perAddress = new AddressCounts(options.maxPerIp);
    this.outputBudget = new OutputBudget(options.outputBudgetBytes, options.dropAboveBytes);
    const limit = Math.min(options.dropAboveBytes, options.closeAboveBytes);
    this.output = new OutputBatcher(Math.min(DEFAULT_FLUSH_AT_BYTES, Math.floor(limit / 2)));
  }

  useUdp(udp: UdpRequests): void {
    this.udp = udp;
  }

  /** A new client stream. Returns its session, or null when a cap refused it (the wire is closed). */
  attach(wire: Wire): Session | null {
    const address = wire.remoteAddress;
    if (this.perAddress.full(address)) {
      this.stats.refusedPerIp++;
      wire.destroy();
      return null;
    }
    const now = this.options.clock.now();
    let slot = this.core.x.openConnection(now);
    if (slot < 0 && this.evictOldestUnconfirmed(now)) slot = this.core.x.openConnection(now);
    if (slot < 0) {
      this.stats.refusedFull++;
      wire.destroy();
      return null;
    }
    // Counted only now: the connection evicted to make room may have been from this address.
    this.perAddress.add(address);
    const session = new Session(slot, wire);
    this.sessions[slot] = session;
    this.stats.accepted++;
    return session;
  }

  /**
   * A full table makes room for a newcomer by closing the unconfirmed connection opened longest
   * ago, as c-toxcore's ring of incoming connections does: otherwise sockets that never handshake,
   * reopened as the handshake timeout closes them, would keep every new client out. One younger
   * than EVICT_AFTER_MS is spared, so that a flood cannot cut short the handshakes of real clients.
   */
  private evictOldestUnconfirmed(now: number): boolean {
    const slot = this.core.x.oldestUnconfirmed(now - EVICT_AFTER_MS);
    const session = slot < 0 ? undefined : this.sessions[slot];
    if (!session) return false;
    this.close(session, CloseReason.EVICTED);
    return true;
  }

  /** Bytes from a client, in whatever pieces the transport delivered them. */
  receive(session: Session, chunk: Uint8Array): void {
    const now = this.options.clock.now(); // one reading per chunk: its frames arrived together
    for (let at = 0; at < chunk.length && session.alive; at += INPUT_AREA_SIZE) {
      const piece = chunk.subarray(at, Math.min(chunk.length, at + INPUT_AREA_SIZE));
      this.core.bytes.set(piece, this.core.inputPtr);
      this.core.x.feed(session.slot, piece.length);
      this.readFrames(session, now);
    }
  }

  private readFrames(session: Session, now: number): void {
    const x = this.core.x;
    const slot = session.slot;
    while (session.alive) {
      const len = x.nextFrame();
      if (len === 0) return;
      if (len < 0) {
        this.close(session, CloseReason.BAD_FRAME_LENGTH);
        return;
      }
      const mem = this.core.bytes;
      const at = x.lastFramePtr();
      if (x.state(slot) === ConnectionState.CONNECTED) {
        if (!this.handshake(session, mem.subarray(at, at + len))) return;
        continue;
      }
      const plainLen = this.box.open(slot, mem, at, len, x.recvNonce(slot), mem, this.core.plaintextPtr);
      if (plainLen < 0) {
        this.close(session, CloseReason.DECRYPT_FAILED);
        return;
      }
      this.stats.framesIn++;
      this.stats.countIn(mem[this.core.plaintextPtr]!, len + 2);
      this.perform(x.acceptFrame(slot, plainLen, now));
    }
  }

  private handshake(session: Session, hello: Uint8Array): boolean {
    const result = this.handshaker.answer(hello);
    if (!result) {
      this.stats.handshakesFailed++;
      this.close(session, CloseReason.DECRYPT_FAILED);
      return false;
    }
    this.stats.handshakes++;
    this.box.setKey(session.slot, result.sessionKey);
    result.sessionKey.fill(0);
    const scratch = this.core.scratchPtr;
    const mem = this.core.bytes;
    mem.set(result.clientPublicKey, scratch);
    mem.set(result.recvNonce, scratch + 32);
    mem.set(result.sendNonce, scratch + 56);
    this.core.x.handshakeDone(session.slot);
    session.wire.write(result.reply); // a fresh array, the wire's to keep
    return true;
  }

  /** Carries out the core's decisions, in order. */
  private perform(count: number): void {
    const wasPerforming = this.performing;
    this.performing = true;
    for (let i = 0; i < count; i++) {
      const a = this.core.action(i, this.action);
      if (a.kind === ActionKind.SEND) this.send(a.slot, a.ptr, a.len, a.priority);
      else if (a.kind === ActionKind.KILL) this.forget(a.slot, a.reason);
      else this.passToUdp(a);
    }
    this.performing = wasPerforming;
    if (!wasPerforming) this.runDeferredCloses();
  }

  private send(slot: number, ptr: number, len: number, priority: boolean): void {
    const session = this.sessions[slot];
    if (!session?.alive || this.shuttingDown) return;
    const backlog = session.backlog();
    if (backlog >= this.options.closeAboveBytes) {
      // It stopped reading; closing it here would overwrite the actions being performed.
      this.stats.overflowed++;
      this.deferClose(session);
      return;
    }
    if (!priority && backlog >= this.outputBudget.dropAt) {
      this.stats.dropped++; // like c-toxcore: no nonce is consumed for a dropped packet
      return;
    }
    const mem = this.core.bytes;
    const noncePtr = this.core.x.takeSendNonce(slot);
    const frame = this.box.seal(slot, mem, ptr, len, mem, noncePtr);
    this.output.append(session, frame);
    this.stats.framesOut++;
    this.stats.countOut(mem[ptr]!, frame.length);
  }

  private passToUdp(a: Action): void {
    const plaintext = this.core.bytes.slice(a.ptr, a.ptr + a.len);
    const identifier = this.core.x.identifier(a.slot);
    if (a.kind === ActionKind.ONION) this.udp.onion?.(a.slot, identifier, plaintext);
    else if (a.kind === ActionKind.FORWARD) this.udp.forward?.(a.slot, identifier, plaintext);
  }

  /** A reply from the UDP side: the core sends it only if the slot still holds that connection. */
  deliver(slot: number, identifier: bigint, plaintext: Uint8Array): void {
    if (plaintext.length < 1 || plaintext.length > MAX_PLAINTEXT_SIZE) return;
    this.core.bytes.set(plaintext, this.core.plaintextPtr);
    this.perform(this.core.x.deliverPacket(slot, identifier, plaintext.length));
  }

  private deferClose(session: Session): void {
    if (!this.deferredCloses.includes(session)) this.deferredCloses.push(session);
  }

  private runDeferredCloses(): void {
    while (this.deferredCloses.length > 0) {
      const session = this.deferredCloses.shift()!;
      if (session.alive) this.close(session, CloseReason.OUTPUT_OVERFLOW);
    }
  }

  /** The host ends a connection: the core forgets it (notifying linked peers), then it is closed. */
  close(session: Session, reason: number): void {
    if (!session.alive) return;
    this.perform(this.core.x.closeConnection(session.slot, reason));
    // The core's KILL action normally lands in forget(); make sure even if it did not.
    if (session.alive) this.release(session, reason);
  }

  /** The socket went away on its own (hang-up, reset, error). */
  disconnected(session: Session): void {
    this.close(session, CloseReason.SOCKET_CLOSED);
  }

  private forget(slot: number, reason: number): void {
    const session = this.sessions[slot];
    if (session?.alive) this.release(session, reason);
  }

  private release(session: Session, reason: number): void {
    session.alive = false;
    if (this.sessions[session.slot] === session) this.sessions[session.slot] = undefined;
    this.box.clearKey(session.slot);
    this.perAddress.remove(session.wire.remoteAddress);
    this.stats.countClose(reason);
    if (this.options.logger.debugEnabled) {
      this.options.logger.debug(`connection ${session.slot} from ${session.wire.remoteAddress} closed: ${closeReasonName[reason] ?? reason}`);
    }
    session.wire.destroy();
  }

  /** One pass of the timers: pings, pong timeouts, handshake timeouts (§7), the output budget. */
  runTimers(): void {
    const x = this.core.x;
    x.sweepBegin(this.options.clock.now());
    while (!x.sweepDone()) this.perform(x.sweepStep());
    for (const session of this.outputBudget.review(this.sessions)) {
      this.stats.overflowed++;
      this.close(session, CloseReason.OUTPUT_OVERFLOW);
    }
  }


  /** Sends every batched frame now instead of at the end of the turn. */
  flush(): void {
    this.output.flush();
  }

  /** Closes every connection (no notifications: everyone is going). */
  closeAll(): void {
    this.shuttingDown = true;
    for (const session of this.sessions) {
      if (session?.alive) this.close(session, CloseReason.SERVER_SHUTDOWN);
    }
  }

  /** The slot of the confirmed connection with this key, or -1 (inspection for tests and logs). */
  slotOf(publicKey: Uint8Array): number {
    return this.core.findByKey(publicKey);
  }

  get connectionCount(): number {
    return this.core.x.connectionsLive();
  }

  /** Connections by state, and the link chunks in use (8 link slots each), for metrics. */
  census(): { open: number; confirmed: number; linksOnline: number; linkChunks: number; coreMemoryBytes: number } {
    const x = this.core.x;
    return {
      open: x.connectionsLive(),
      confirmed: x.connectionsConfirmed(),
      linksOnline: x.linksOnline(),
      linkChunks: x.linkChunks(),
      coreMemoryBytes: x.memoryBytes(),
    };
  }
}
