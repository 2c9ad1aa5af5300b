// Accepted TCP sockets as relay sessions. One set of handlers serves every socket (each finds
// its session through `this`), so that an idle connection costs its socket and little else.

import type { Socket } from 'node:net';
import type { Relay } from './relay.ts';
import type { Session } from './session.ts';
import { TcpWire } from './wire.ts';

export class TcpSessions {
  private readonly sockets = new Set<Socket>();
  private readonly sessionOf = new WeakMap<Socket, Session>();
  private readonly onData: (this: Socket, chunk: Buffer) => void;
  private readonly onGone: (this: Socket) => void;
  private readonly onClose: (this: Socket) => void;

  /** `afterInput` runs after each chunk is handled (the busy poller's poke). */
  constructor(
    private readonly relay: Relay,
    afterInput: () => void = () => {},
  ) {
    const { sockets, sessionOf } = this;
    this.onData = function (chunk) {
      const session = sessionOf.get(this);
      if (!session) return;
      relay.receive(session, chunk);
      afterInput();
    };
    // A hang-up is noticed at once and the peers told at once (c-toxcore 0.2.18 waits for the ping timeout).
    const onGone = function (this: Socket) {
      const session = sessionOf.get(this);
      if (session) relay.disconnected(session);
    };
    this.onGone = onGone;
    this.onClose = function () {
      sockets.delete(this);
      onGone.call(this);
    };
  }

  accept(socket: Socket): void {
    const session = this.relay.attach(new TcpWire(socket));
    if (!session) return;
    this.sessionOf.set(socket, session);
    this.sockets.add(socket);
    socket.on('data', this.onData);
    socket.on('end', this.onGone);
    socket.on('error', this.onGone);
    socket.on('close', this.onClose);
  }

  closeAll(): void {
    for (const socket of this.sockets) socket.destroy();
  }
}
