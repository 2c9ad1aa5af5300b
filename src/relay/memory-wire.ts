// A client connection held in memory, for the relay running in a browser page (in-page.ts): one
// end is the relay's Wire, the other the client's Transport (src/client/transport.ts). It goes
// through relay.attach / receive / disconnected exactly as a TCP socket does (see tcp.ts).
//
// Like a socket: delivery is asynchronous (a microtask after the write, never inside it) and in
// order; the relay's pendingBytes() counts the bytes the client has not taken yet (held while it
// has no receiver), so the relay's drop and close rules for slow readers apply unchanged; and
// closing either end closes the other — the relay hears of a client's close once the bytes the
// client wrote before it have been fed to it, without waiting for a timeout.

import type { Transport } from '../client/transport.ts';
import type { Relay } from './relay.ts';
import type { Session } from './session.ts';
import type { Wire } from './wire.ts';

/** The relay's end. */
class MemoryWire implements Wire {
  constructor(
    readonly remoteAddress: string,
    private readonly pipe: MemoryPipe,
  ) {}
  write(bytes: Uint8Array): void {
    this.pipe.fromRelay(bytes);
  }
  pendingBytes(): number {
    return this.pipe.toClientBytes;
  }
  destroy(): void {
    this.pipe.relayClosed();
  }
}

/**
 * The client's end. Beyond Transport it can pause(): bytes from the relay are then held, as by a
 * client that stops reading its socket, and the relay sees them pending (resume() hands them over).
 */
export class MemoryTransport implements Transport {
  constructor(private readonly pipe: MemoryPipe) {}
  pause(): void {
    this.pipe.paused = true;
  }
  resume(): void {
    this.pipe.paused = false;
    this.pipe.resumed();
  }
  write(bytes: Uint8Array): void {
    this.pipe.fromClient(bytes);
  }
  close(): void {
    this.pipe.clientClosed();
  }
  onData(receiver: (bytes: Uint8Array) => void): void {
    this.pipe.setReceiver(receiver);
  }
  onClose(handler: (error?: Error) => void): void {
    this.pipe.setCloseHandler(handler);
  }
}

/** The state both ends share: a queue each way and who has closed. */
class MemoryPipe {
  session: Session | null = null;
  paused = false;
  private readonly toRelay: Uint8Array[] = [];
  private readonly toClient: Uint8Array[] = [];
  toClientBytes = 0;
  private relayDrainScheduled = false;
  private clientDrainScheduled = false;
  /** The client called close(): it writes nothing more, and the relay is told after its last bytes. */
  private clientDone = false;
  /** The relay destroyed its wire (or heard of the client's close): nothing more is fed to it. */
  private relayDone = false;
  private receiver: ((bytes: Uint8Array) => void) | undefined;
  private closeHandler: ((error?: Error) => void) | undefined;
  private closeNotified = false;
  private readonly drainToRelay = () => this.deliverToRelay();
  private readonly drainToClient = () => this.deliverToClient();

  constructor(private readonly relay: Relay) {}

  fromClient(bytes: Uint8Array): void {
    if (this.clientDone || this.relayDone || bytes.length === 0) return;
    this.toRelay.push(bytes); // the Transport contract: the caller leaves them alone
    this.scheduleRelayDrain();
  }

  clientClosed(): void {
    if (this.clientDone) return;
    this.clientDone = true;
    // Nothing more reaches a client that closed: its close handler runs once the relay knows.
    this.toClient.length = 0;
    this.toClientBytes = 0;
    this.scheduleRelayDrain();
  }

  fromRelay(bytes: Uint8Array): void {
    if (this.relayDone || this.clientDone || bytes.length === 0) return;
    this.toClient.push(bytes);
    this.toClientBytes += bytes.length;
    this.scheduleClientDrain();
  }

  relayClosed(): void {
    if (this.relayDone) return;
    this.relayDone = true;
    this.toRelay.length = 0; // bytes the relay has not read yet are discarded, as by a reset
    // Bytes already written still reach the client (a destroyed socket's were in the kernel),
    // and then its stream ends.
    this.scheduleClientDrain();
  }

  setReceiver(receiver: (bytes: Uint8Array) => void): void {
    this.receiver = receiver;
    this.deliverToClient(); // chunks held for want of a receiver, as the Transport contract says
  }

  resumed(): void {
    this.scheduleClientDrain();
  }

  setCloseHandler(handler: (error?: Error) => void): void {
    this.closeHandler = handler;
    if (this.relayDone && this.toClient.length === 0) this.notifyClose();
  }

  private scheduleRelayDrain(): void {
    if (this.relayDrainScheduled) return;
    this.relayDrainScheduled = true;
    queueMicrotask(this.drainToRelay);
  }

  private scheduleClientDrain(): void {
    if (this.clientDrainScheduled) return;
    this.clientDrainScheduled = true;
    queueMicrotask(this.drainToClient);
  }

  private deliverToRelay(): void {
    this.relayDrainScheduled = false;
    const session = this.session;
    // A chunk may make the relay destroy the wire, which empties the queue.
    while (this.toRelay.length > 0 && session?.alive) this.relay.receive(session, this.toRelay.shift()!);
    this.toRelay.length = 0;
    if (this.clientDone && session?.alive) this.relay.disconnected(session); // destroys the wire
    if (this.clientDone) this.relayClosed();
  }

  private deliverToClient(): void {
    this.clientDrainScheduled = false;
    const receiver = this.receiver;
    if (receiver && !this.paused) {
      while (this.toClient.length > 0) {
        const chunk = this.toClient.shift()!;
        this.toClientBytes -= chunk.length;
        receiver(chunk);
      }
    }
    if (this.relayDone && this.toClient.length === 0) this.notifyClose();
  }

  private notifyClose(): void {
    if (this.closeNotified || !this.closeHandler) return;
    this.closeNotified = true;
    this.closeHandler();
  }
}

/**
 * A new client stream into the relay, under its own address (so the relay's per-address cap does
 * not count the page's clients together). When the relay refuses it (full), the returned
 * transport simply ends, as a TCP client sees its connection closed.
 */
export function connectInMemory(relay: Relay, remoteAddress: string): MemoryTransport {
  const pipe = new MemoryPipe(relay);
  pipe.session = relay.attach(new MemoryWire(remoteAddress, pipe));
  return new MemoryTransport(pipe);
}

/** A client stream that the relay never sees: it just ends (for a relay that was closed). */
export function endedInMemory(relay: Relay): MemoryTransport {
  const pipe = new MemoryPipe(relay);
  pipe.relayClosed();
  return new MemoryTransport(pipe);
}
