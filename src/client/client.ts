// A Tox TCP relay client over an injected Transport (PROTOCOL §1, §2, §4).
// Receive path: transport chunk → FrameReader → (handshake reply | frame) → Session.open →
// 'packet' event → decodeServerPacket → typed event (and an automatic PONG for a PING).
// Send path: encoder → Session.seal (send nonce, +1) → transport.write.
// It is also a test tool for relays, so it can send what a correct client never would
// (sendPlaintext, sendRawBytes, sealFrame), while it rejects anything malformed from the relay.

import type { KeyAgreement } from '../crypto/key-agreement.ts';
import { randomBytes } from '../crypto/random.ts';
import { Emitter, type Listener } from './emitter.ts';
import { ClientError } from './errors.ts';
import { FrameReader } from './frames.ts';
import { createHello, type HandshakeState, openReply, type PreparedHello, SERVER_HANDSHAKE_SIZE } from './handshake.ts';
import {
  checkDataConnId,
  decodeServerPacket,
  encodeDisconnectNotification,
  encodeForwardRequest,
  encodeOnionRequest,
  encodeOobSend,
  encodePing,
  encodePong,
  encodeRoutingRequest,
  PING_ID_SIZE,
  type ServerPacket,
} from './packets.ts';
import type { Session } from './session.ts';
import { assertSodiumReady, generateKeyPair, type KeyPair, ready } from './sodium.ts';
import type { Transport } from './transport.ts';

export interface RelayClientOptions {
  transport: Transport;
  /** The relay's long-term (DHT) public key. */
  serverPublicKey: Uint8Array;
  /** The client's identity on the relay; a fresh one is generated if absent. */
  keyPair?: KeyPair;
  /** Answer the relay's PINGs with PONGs (default true; a relay kills a client that does not). */
  autoPong?: boolean;
  /** handshake() gives up after this long (default 10 s, c-toxcore's TCP_CONNECTION_TIMEOUT). */
  handshakeTimeoutMs?: number;
  /** Default time ping() waits for its PONG (default 10 s, as c-toxcore's client). */
  pingTimeoutMs?: number;
  /** Who computes X25519 (default: libsodium.js, which works everywhere). */
  keyAgreement?: KeyAgreement;
  /**
   * The hello, built beforehand with createHello() for this keyPair and relay, so that
   * handshake() costs one key agreement instead of three (the bench measures relays this way).
   */
  hello?: PreparedHello;
  /**
   * Data packets (ids 16..255) reach the `packet` and `data` listeners as views of this client's
   * receive buffer, which its next received packet overwrites: keep a copy to hold on to one
   * (waitFor() resolves with copies). Saves an allocation per received packet for consumers that
   * read data at once (the bench). Other packets are always copies. Default false.
   */
  transientData?: boolean;
}

export type ClientState = 'idle' | 'handshaking' | 'handshaken' | 'confirmed' | 'closed';

export interface CloseEvent {
  /** Absent when the stream ended or close() was called; set when the client or stream failed. */
  error?: Error;
}

/** Event name → payload. Server packet events carry the decoded packet (with its `type`). */
export type RelayClientEvents = { [P in ServerPacket as P['type']]: P } & {
  /** Every decrypted relay packet, before it is decoded (also the malformed one that closes). */
  packet: { plaintext: Uint8Array };
  close: CloseEvent;
};
export type RelayClientEventName = keyof RelayClientEvents;

const DEFAULT_WAIT_MS = 5_000;

type Timer = ReturnType<typeof setTimeout>;

interface PendingPing {
  readonly id: Uint8Array;
  resolve(id: Uint8Array): void;
  reject(error: Error): void;
  timer: Timer | undefined;
}

interface PendingHandshake {
  readonly state: HandshakeState;
  resolve(): void;
  reject(error: Error): void;
  timer: Timer | undefined;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A random 8-byte ping id, never all zero (a PONG with a zero id gets a client killed). */
export function randomPingId(): Uint8Array {
  assertSodiumReady();
  const id = randomBytes(PING_ID_SIZE);
  if (id.every((byte) => byte === 0)) id[PING_ID_SIZE - 1] = 1;
  return id;
}

export class RelayClient {
  readonly serverPublicKey: Uint8Array;
  readonly keyPair: KeyPair;
  private readonly transport: Transport;
  private readonly autoPong: boolean;
  private readonly handshakeTimeoutMs: number;
  private readonly pingTimeoutMs: number;
  private readonly events = new Emitter<RelayClientEvents>();
  private readonly reader = new FrameReader();
  private readonly keyAgreement: KeyAgreement | undefined;
  private preparedHello: PreparedHello | undefined;
  private readonly transientData: boolean;
  private currentState: ClientState = 'idle';
  private session: Session | undefined;
  private pendingHandshake: PendingHandshake | undefined;
  private pendingPings: PendingPing[] = [];
  private closeEvent: CloseEvent | undefined;

  /** Waits for libsodium, then constructs: the way to build a client without a keyPair. */
  static async create(options: RelayClientOptions): Promise<RelayClient> {
    await ready();
    return new RelayClient(options);
  }

  /** Needs libsodium ready (see create() and ready()) when no keyPair is given. */
  constructor(options: RelayClientOptions) {
    this.transport = options.transport;
    this.serverPublicKey = options.serverPublicKey;
    this.keyPair = options.keyPair ?? generateKeyPair();
    this.autoPong = options.autoPong ?? true;
    this.handshakeTimeoutMs = options.handshakeTimeoutMs ?? 10_000;
    this.pingTimeoutMs = options.pingTimeoutMs ?? 10_000;
    this.keyAgreement = options.keyAgreement;
    this.preparedHello = options.hello;
    this.transientData = options.transientData === true;
    if (this.preparedHello && !sameBytes(this.preparedHello.hello.subarray(0, 32), this.keyPair.publicKey)) {
      throw new Error("options.hello was built for another key pair than options.keyPair");
    }
    this.transport.onData((bytes) => this.receive(bytes));
    this.transport.onClose((error) => this.shutdown(error));
  }

  /** The client's identity on the relay (what peers put in routing requests). */
  get publicKey(): Uint8Array {
    return this.keyPair.publicKey;
  }

  /**
   * idle → handshaking → handshaken (session keys known) → confirmed (the relay has answered a
   * frame, so it accepted the connection) → closed.
   */
  get state(): ClientState {
    return this.currentState;
  }

  get closed(): boolean {
    return this.closeEvent !== undefined;
  }

  // ---- events ----

  on<K extends RelayClientEventName>(name: K, listener: Listener<RelayClientEvents[K]>): () => void {
    return this.events.on(name, listener);
  }

  off<K extends RelayClientEventName>(name: K, listener: Listener<RelayClientEvents[K]>): void {
    this.events.off(name, listener);
  }

  /**
   * The next `name` event that satisfies `predicate`. Rejects with WAIT_TIMEOUT after
   * `timeoutMs` (Infinity: never), and with CLOSED if the client closes first, unless the event
   * awaited is 'close' itself, which resolves at once on a client that is already closed.
   */
  waitFor<K extends RelayClientEventName>(
    name: K,
    predicate?: (event: RelayClientEvents[K]) => boolean,
    timeoutMs = DEFAULT_WAIT_MS,
  ): Promise<RelayClientEvents[K]> {
    return new Promise((resolve, reject) => {
      if (this.closeEvent) {
        if (name === 'close') resolve(this.closeEvent as RelayClientEvents[K]);
        else reject(this.closedError(`waiting for '${name}'`));
        return;
      }
      const removers: Array<() => void> = [];
      let timer: Timer | undefined;
      const finish = () => {
        for (const remove of removers) remove();
        clearTimeout(timer);
      };
      removers.push(
        this.on(name, (event) => {
          if (predicate && !predicate(event)) return;
          finish();
          resolve(this.transientData ? keptCopy(event) : event);
        }),
      );
      if (name !== 'close') {
        removers.push(
          this.on('close', () => {
            finish();
            reject(this.closedError(`waiting for '${name}'`));
          }),
        );
      }
      if (Number.isFinite(timeoutMs)) {
        timer = setTimeout(() => {
          finish();
          reject(new ClientError('WAIT_TIMEOUT', `no '${name}' event within ${timeoutMs} ms`));
        }, timeoutMs);
      }
    });
  }

  // ---- connection set-up ----

  /** Handshake, then confirm: the connection is usable and accepted by the relay. */
  async connect(): Promise<void> {
    await this.handshake();
    await this.confirm();
  }

  /**
   * Sends the 128-byte hello and resolves once the relay's reply gave the session keys. Rejects
   * (and closes) on a reply that does not decrypt, on close, or after handshakeTimeoutMs.
   * `sendHello` replaces the plain write of the hello, e.g. to send it in pieces or with bytes
   * appended; it should write through sendRawBytes().
   */
  async handshake(options: { sendHello?: (hello: Uint8Array) => void | Promise<void> } = {}): Promise<void> {
    if (this.currentState !== 'idle') throw new Error(`handshake() in state '${this.currentState}'`);
    this.currentState = 'handshaking';
    await ready();
    if (this.closeEvent) throw this.closedError('before the handshake');
    let built;
    try {
      built = this.preparedHello ?? createHello(this.keyPair, this.serverPublicKey, this.keyAgreement);
      this.preparedHello = undefined; // a hello is sent once
    } catch (error) {
      this.shutdown(error as Error);
      throw error;
    }
    const done = new Promise<void>((resolve, reject) => {
      const timer = Number.isFinite(this.handshakeTimeoutMs)
        ? setTimeout(() => {
            this.shutdown(new ClientError('HANDSHAKE_TIMEOUT', `no handshake reply within ${this.handshakeTimeoutMs} ms`));
          }, this.handshakeTimeoutMs)
        : undefined;
      this.pendingHandshake = { state: built.state, resolve, reject, timer };
    });
    try {
      if (options.sendHello) await options.sendHello(built.hello);
      else this.transport.write(built.hello);
    } catch (error) {
      this.shutdown(error as Error);
    }
    this.drain(); // the reply may already be buffered (a custom sendHello that waited)
    return done;
  }

  /** Sends a PING and waits for its PONG: the relay confirms a connection on its first valid frame. */
  async confirm(): Promise<void> {
    await this.ping();
  }

  // ---- senders (all throw if the client is not handshaken or is closed) ----

  routingRequest(publicKey: Uint8Array): void {
    this.sendPlaintext(encodeRoutingRequest(publicKey));
  }

  /** Data on link `connId` (16..255, from a routing response). */
  sendData(connId: number, payload: Uint8Array): void {
    checkDataConnId(connId);
    this.transport.write(this.sendingSession('sending data').sealPacket(connId, payload, this.transport.copiesWrites === true));
  }

  sendOob(publicKey: Uint8Array, data: Uint8Array): void {
    this.sendPlaintext(encodeOobSend(publicKey, data));
  }

  /** DISCONNECT_NOTIFICATION for link `connId` (any byte, so kill rules can be tested). */
  disconnect(connId: number): void {
    this.sendPlaintext(encodeDisconnectNotification(connId));
  }

  /** Sends a PING and resolves with the 8 bytes of the PONG that echoes it. */
  async ping(id: Uint8Array = randomPingId(), timeoutMs = this.pingTimeoutMs): Promise<Uint8Array> {
    const packet = encodePing(id);
    let pending!: PendingPing;
    const pong = new Promise<Uint8Array>((resolve, reject) => {
      pending = { id: packet.subarray(1), resolve, reject, timer: undefined };
    });
    // Registered before sending, in case a transport delivers the answer inside write().
    this.pendingPings.push(pending);
    try {
      this.sendPlaintext(packet);
    } catch (error) {
      this.dropPing(pending);
      throw error;
    }
    pending.timer = setTimeout(() => {
      this.dropPing(pending);
      pending.reject(new ClientError('PING_TIMEOUT', `no PONG within ${timeoutMs} ms`));
    }, timeoutMs);
    return pong;
  }

  pong(id: Uint8Array): void {
    this.sendPlaintext(encodePong(id));
  }

  /** ONION_REQUEST: `body` is everything after the id byte (nonce, ip_port, …). */
  onionRequest(body: Uint8Array): void {
    this.sendPlaintext(encodeOnionRequest(body));
  }

  /** FORWARD_REQUEST: `body` is everything after the id byte (packed ip_port, data). */
  forwardRequest(body: Uint8Array): void {
    this.sendPlaintext(encodeForwardRequest(body));
  }

  /** Encrypts and frames any plaintext (any id, any length up to 2032, even empty) and sends it. */
  sendPlaintext(plaintext: Uint8Array): void {
    this.transport.write(this.sealFrame(plaintext));
  }

  /**
   * The frame sendPlaintext would write, without writing it; it consumes a send nonce, so it
   * must be written (e.g. in pieces via sendRawBytes) before the next frame.
   */
  sealFrame(plaintext: Uint8Array): Uint8Array {
    return this.sendingSession('sealing a frame').seal(plaintext);
  }

  /** The session to send with; throws if the client is closed or not handshaken. */
  private sendingSession(doing: string): Session {
    if (this.closeEvent) throw this.closedError(doing);
    if (!this.session) throw new Error(`cannot send frames in state '${this.currentState}': handshake first`);
    return this.session;
  }

  /**
   * Runs `send` (which sends any number of packets) with the transport corked, so that its frames
   * leave in one write where the transport supports it (TCP does).
   */
  batch(send: () => void): void {
    this.transport.cork?.();
    try {
      send();
    } finally {
      this.transport.uncork?.();
    }
  }

  /** Writes bytes to the transport as they are: no framing, no encryption, in any state but closed. */
  sendRawBytes(bytes: Uint8Array): void {
    if (this.closeEvent) throw this.closedError('sending raw bytes');
    this.transport.write(bytes);
  }

  /** Closes the connection (no error); pending handshake, pings and waits reject with CLOSED. */
  close(): void {
    this.shutdown();
  }

  // ---- receive path ----

  private receive(bytes: Uint8Array): void {
    if (this.closeEvent) return;
    this.reader.push(bytes);
    this.drain();
  }

  private drain(): void {
    while (!this.closeEvent) {
      if (this.pendingHandshake) {
        const reply = this.reader.takeRaw(SERVER_HANDSHAKE_SIZE);
        if (!reply) return;
        this.finishHandshake(this.pendingHandshake, reply);
        continue;
      }
      if (!this.session) return; // bytes before handshake() stay buffered until it is called
      let plaintext: Uint8Array;
      try {
        const body = this.reader.next();
        if (body === undefined) return;
        // Zero-length frames are skipped and consume no nonce, as toxcore's reader does.
        if (body.length === 0) continue;
        plaintext = this.session.open(body, this.transientData);
      } catch (error) {
        this.shutdown(error as ClientError);
        return;
      }
      this.handlePlaintext(plaintext);
    }
  }

  private finishHandshake(pending: PendingHandshake, reply: Uint8Array): void {
    let session: Session;
    try {
      session = openReply(pending.state, reply);
    } catch (error) {
      this.shutdown(error as ClientError);
      return;
    }
    clearTimeout(pending.timer);
    this.pendingHandshake = undefined;
    this.session = session;
    this.currentState = 'handshaken';
    pending.resolve();
  }

  private handlePlaintext(plaintext: Uint8Array): void {
    // A relay sends nothing to a connection it has not confirmed.
    if (this.currentState === 'handshaken') this.currentState = 'confirmed';
    if (this.events.has('packet')) this.events.emit('packet', { plaintext });
    if (this.closeEvent) return; // a listener closed the client
    let packet: ServerPacket;
    try {
      packet = decodeServerPacket(plaintext);
    } catch (error) {
      this.shutdown(error as ClientError);
      return;
    }
    if (packet.type === 'ping' && this.autoPong && !this.closeEvent) this.pong(packet.id);
    if (packet.type === 'pong') this.settlePing(packet.id);
    // The payload type matches the name by construction; TypeScript cannot correlate the union.
    this.events.emit(packet.type, packet as never);
  }

  /** Resolves the oldest ping() waiting for this id; a PONG nobody waits for is only an event. */
  private settlePing(id: Uint8Array): void {
    const pending = this.pendingPings.find((p) => sameBytes(p.id, id));
    if (!pending) return;
    this.dropPing(pending);
    pending.resolve(id);
  }

  private dropPing(pending: PendingPing): void {
    clearTimeout(pending.timer);
    this.pendingPings = this.pendingPings.filter((p) => p !== pending);
  }

  private closedError(doing: string): ClientError {
    const error = this.closeEvent?.error;
    const why = error ? `: ${error.message}` : '';
    return new ClientError('CLOSED', `connection closed (${doing})${why}`, { cause: error });
  }

  /** The one way to closed: by close(), by the transport ending, or by an error of the client. */
  private shutdown(error?: Error): void {
    if (this.closeEvent) return;
    const event: CloseEvent = error ? { error } : {};
    this.closeEvent = event;
    this.currentState = 'closed';
    this.transport.close();
    const pending = this.pendingHandshake;
    if (pending) {
      this.pendingHandshake = undefined;
      clearTimeout(pending.timer);
      pending.reject(error ?? this.closedError('during the handshake'));
    }
    for (const ping of this.pendingPings) {
      clearTimeout(ping.timer);
      ping.reject(this.closedError('waiting for a PONG'));
    }
    this.pendingPings = [];
    this.events.emit('close', event);
  }
}

/** An event whose bytes outlive the listener call (transientData: data bytes are a reused buffer). */
function keptCopy<E>(event: E): E {
  const e = event as { type?: string; data?: Uint8Array; plaintext?: Uint8Array };
  if (e.type === 'data' && e.data) return { ...event, data: e.data.slice() };
  if (e.plaintext) return { ...event, plaintext: e.plaintext.slice() };
  return event;
}
