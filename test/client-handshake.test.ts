// The client against a minimal relay written here from PROTOCOL §1/§2 with plain libsodium calls,
// its own framing and its own (BigInt) nonce arithmetic, over in-memory transports: if both sides
// derive the same session key and nonces, frames open in both directions.
import sodium from 'libsodium-wrappers-sumo';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RelayClient, type RelayClientOptions } from '../src/client/client.ts';
import { createHello } from '../src/client/handshake.ts';
import { generateKeyPair } from '../src/client/sodium.ts';
import { nativeKeyAgreement } from '../src/crypto/key-agreement-node.ts';
import { ready } from '../src/client/sodium.ts';
import { ClientError, type ClientErrorCode } from '../src/client/errors.ts';
import { memoryTransportPair } from '../src/client/memory.ts';
import type { Transport } from '../src/client/transport.ts';

// No top-level await: `uvu -r tsx` loads tests as CommonJS.
test.before(async () => {
  await sodium.ready;
  await ready();
});

function nonceBytes(n: bigint): Uint8Array {
  const out = new Uint8Array(24);
  for (let i = 23; i >= 0; i--) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}
function nonceValue(bytes: Uint8Array): bigint {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return n;
}
function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

interface TestRelayOptions {
  /** Replace the 96-byte reply (e.g. with garbage). */
  reply?: (real: Uint8Array) => Uint8Array;
  /** Plaintexts to send in the same write as the handshake reply. */
  sendWithReply?: Uint8Array[];
  /** Never answer the hello. */
  silent?: boolean;
  /** Answer PINGs with PONGs (default true). */
  answerPings?: boolean;
}

/** The relay side of the handshake and framing, nothing else. */
class TestRelay {
  readonly keys = sodium.crypto_box_keypair();
  clientPublicKey: Uint8Array | undefined;
  received: Uint8Array[] = [];
  private buffer: Uint8Array = new Uint8Array(0);
  private key: Uint8Array | undefined;
  private recvNonce = 0n;
  private sendNonce = 0n;
  private waiters: Array<() => void> = [];
  killed = false;

  constructor(
    readonly transport: Transport,
    private readonly options: TestRelayOptions = {},
  ) {
    transport.onData((chunk) => this.onData(chunk));
    transport.onClose(() => {});
  }

  private kill(): void {
    this.killed = true;
    this.transport.close();
    for (const wake of this.waiters.splice(0)) wake();
  }

  private onData(chunk: Uint8Array): void {
    if (this.killed) return;
    this.buffer = concat(this.buffer, chunk);
    if (!this.key) {
      if (this.buffer.length < 128 || this.options.silent) return;
      this.answerHello(this.buffer.subarray(0, 128));
      this.buffer = this.buffer.slice(128);
    }
    while (this.key && this.buffer.length >= 2) {
      const length = (this.buffer[0]! << 8) | this.buffer[1]!;
      if (this.buffer.length < 2 + length) break;
      const box = this.buffer.subarray(2, 2 + length);
      let plaintext: Uint8Array;
      try {
        plaintext = sodium.crypto_box_open_easy_afternm(box, nonceBytes(this.recvNonce), this.key);
      } catch {
        this.kill(); // §2: a frame that does not decrypt kills
        return;
      }
      this.recvNonce = (this.recvNonce + 1n) % (1n << 192n);
      this.buffer = this.buffer.slice(2 + length);
      this.received.push(plaintext);
      if (plaintext[0] === 4 && this.options.answerPings !== false) this.send(Uint8Array.of(5, ...plaintext.subarray(1)));
    }
    for (const wake of this.waiters.splice(0)) wake();
  }

  private answerHello(hello: Uint8Array): void {
    const clientPk = hello.subarray(0, 32);
    const longTerm = sodium.crypto_box_beforenm(clientPk, this.keys.privateKey);
    let inner: Uint8Array;
    try {
      inner = sodium.crypto_box_open_easy_afternm(hello.subarray(56), hello.subarray(32, 56), longTerm);
    } catch {
      this.kill(); // §1 step 3: close at once, send nothing
      return;
    }
    this.clientPublicKey = clientPk.slice();
    const ephemeral = sodium.crypto_box_keypair();
    const baseNonce = sodium.randombytes_buf(24);
    const replyNonce = sodium.randombytes_buf(24);
    const box = sodium.crypto_box_easy_afternm(concat(ephemeral.publicKey, baseNonce), replyNonce, longTerm);
    const real = concat(replyNonce, box);
    this.key = sodium.crypto_box_beforenm(inner.subarray(0, 32), ephemeral.privateKey);
    this.recvNonce = nonceValue(inner.subarray(32, 56));
    this.sendNonce = nonceValue(baseNonce);
    const reply = this.options.reply ? this.options.reply(real) : real;
    const frames = (this.options.sendWithReply ?? []).map((p) => this.seal(p));
    this.transport.write(concat(reply, ...frames));
  }

  seal(plaintext: Uint8Array): Uint8Array {
    const box = sodium.crypto_box_easy_afternm(plaintext, nonceBytes(this.sendNonce), this.key!);
    this.sendNonce = (this.sendNonce + 1n) % (1n << 192n);
    return concat(Uint8Array.of(box.length >> 8, box.length & 0xff), box);
  }

  send(plaintext: Uint8Array): void {
    this.transport.write(this.seal(plaintext));
  }

  /** Resolves once at least `count` plaintexts have arrived. */
  async waitReceived(count: number, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < count) {
      if (this.killed) throw new Error(`relay killed the connection after ${this.received.length} of ${count} packets`);
      if (Date.now() > deadline) throw new Error(`relay got ${this.received.length} of ${count} packets`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }
}

function setup(options: TestRelayOptions & { chunkSize?: number; clientOptions?: Partial<RelayClientOptions>; wrongServerKey?: boolean } = {}) {
  const [clientEnd, relayEnd] = memoryTransportPair({ chunkSize: options.chunkSize });
  const relay = new TestRelay(relayEnd, options);
  const serverPublicKey = options.wrongServerKey ? sodium.crypto_box_keypair().publicKey : relay.keys.publicKey;
  const client = new RelayClient({ transport: clientEnd, serverPublicKey, ...options.clientOptions });
  return { relay, client };
}

async function rejectsWith(promise: Promise<unknown>, code: ClientErrorCode): Promise<ClientError> {
  try {
    await promise;
  } catch (error) {
    assert.instance(error, ClientError);
    assert.is((error as ClientError).code, code, (error as Error).message);
    return error as ClientError;
  }
  assert.unreachable(`expected a ${code} rejection`);
  throw new Error('unreachable');
}

test('handshake: the relay learns the client key and both sides derive the same session', async () => {
  const { relay, client } = setup();
  assert.is(client.state, 'idle');
  await client.handshake();
  assert.is(client.state, 'handshaken');
  assert.equal(relay.clientPublicKey, client.publicKey);

  // client → relay: opens with the relay's key and the client's base nonce
  client.sendPlaintext(Uint8Array.of(0x42, 1, 2, 3));
  await relay.waitReceived(1);
  assert.equal([...relay.received[0]!], [0x42, 1, 2, 3]);

  // relay → client: opens with the client's key and the relay's base nonce
  const packet = client.waitFor('packet');
  relay.send(Uint8Array.of(16, 9, 8, 7));
  assert.equal([...(await packet).plaintext], [16, 9, 8, 7]);
  assert.is(client.state, 'confirmed');
  client.close();
});

test('a hello prepared beforehand with native X25519 gives a working session', async () => {
  const [clientEnd, relayEnd] = memoryTransportPair();
  const relay = new TestRelay(relayEnd, {});
  const keyPair = generateKeyPair();
  const agreement = nativeKeyAgreement(sodium);
  const prepared = createHello(keyPair, relay.keys.publicKey, agreement);
  const client = new RelayClient({ transport: clientEnd, serverPublicKey: relay.keys.publicKey, keyPair, hello: prepared, keyAgreement: agreement });
  await client.connect();
  assert.equal(relay.clientPublicKey, keyPair.publicKey);
  assert.is(relay.received.length, 1, 'the PING opened with the session derived from the prepared hello');
  client.close();
});

test('a secret key of the wrong size fails the hello with HANDSHAKE_FAILED, native or not', () => {
  const serverPublicKey = sodium.crypto_box_keypair().publicKey;
  const keyPair = { publicKey: new Uint8Array(32), secretKey: new Uint8Array(31) };
  for (const agreement of [undefined, nativeKeyAgreement(sodium)]) {
    try {
      createHello(keyPair, serverPublicKey, agreement);
      assert.unreachable('createHello accepted a 31-byte secret key');
    } catch (error) {
      assert.instance(error, ClientError);
      assert.is((error as ClientError).code, 'HANDSHAKE_FAILED');
    }
  }
});

test('a prepared hello for another key pair is refused at construction', () => {
  const [clientEnd] = memoryTransportPair();
  const serverPublicKey = sodium.crypto_box_keypair().publicKey;
  const hello = createHello(generateKeyPair(), serverPublicKey);
  assert.throws(() => new RelayClient({ transport: clientEnd, serverPublicKey, keyPair: generateKeyPair(), hello }), /another key pair/);
});

test('transientData: data packets are views overwritten by the next packet; control packets are copies', async () => {
  const { relay, client } = setup({ clientOptions: { transientData: true } });
  await client.connect();
  const seen: { data: Uint8Array; bytes: number[] }[] = [];
  client.on('data', (p) => {
    // Sending from a listener seals on libsodium's heap: the view must not change under it.
    client.sendData(16, Uint8Array.of(0xee, 0xee, 0xee, 0xee));
    seen.push({ data: p.data, bytes: [...p.data] });
  });
  const response = client.waitFor('routingResponse');
  const peerKey = sodium.crypto_box_keypair().publicKey;
  relay.send(Uint8Array.of(1, 16, ...peerKey)); // ROUTING_RESPONSE: conn_id 16 for peerKey
  const routed = await response;
  const one = client.waitFor('data', (p) => p.data[0] === 1);
  const two = client.waitFor('data', (p) => p.data[0] === 2);
  relay.send(Uint8Array.of(16, 1, 1, 1));
  relay.send(Uint8Array.of(16, 2, 2, 2));
  await two;
  assert.equal([...(await one).data], [1, 1, 1], 'waitFor resolves with a copy, intact after later packets');
  assert.equal(seen.map((s) => s.bytes), [[1, 1, 1], [2, 2, 2]], 'each listener saw its own packet, unchanged by a send');
  assert.is(seen[0]!.data.buffer, seen[1]!.data.buffer, 'both are views of one scratch buffer');
  assert.equal([...seen[0]!.data], [2, 2, 2], 'the first view now shows the second packet');
  assert.equal([...routed.publicKey], [...peerKey], 'a control packet kept after later packets is intact');
  client.close();
});

test('without transientData every data packet is its own copy', async () => {
  const { relay, client } = setup();
  await client.connect();
  const seen: Uint8Array[] = [];
  client.on('data', (p) => seen.push(p.data));
  const two = client.waitFor('data', (p) => p.data[0] === 2);
  relay.send(Uint8Array.of(16, 1, 1, 1));
  relay.send(Uint8Array.of(16, 2, 2, 2));
  await two;
  assert.equal(seen.map((d) => [...d]), [[1, 1, 1], [2, 2, 2]]);
  client.close();
});

test('connect() = handshake + PING answered by PONG; the relay saw exactly that PING', async () => {
  const { relay, client } = setup();
  await client.connect();
  assert.is(client.state, 'confirmed');
  assert.is(relay.received.length, 1);
  assert.is(relay.received[0]![0], 4);
  assert.is(relay.received[0]!.length, 9);
  assert.ok(relay.received[0]!.subarray(1).some((b) => b !== 0), 'default ping id is non-zero');
  const id = Uint8Array.of(8, 6, 9, 67, 0, 0, 0, 0);
  assert.equal(await client.ping(id), id);
  client.close();
});

test('1-byte chunks both ways; 300 frames each way carry the nonces past a byte boundary', async () => {
  const { relay, client } = setup({ chunkSize: 1 });
  await client.handshake();
  const sizes = Array.from({ length: 300 }, (_, i) => (i === 150 ? 2031 : 1 + ((i * 37) % 90)));
  const payload = (i: number) => Uint8Array.from({ length: sizes[i]! }, (_, j) => (i + j) & 0xff);

  for (let i = 0; i < sizes.length; i++) client.sendData(16 + (i % 240), payload(i));
  await relay.waitReceived(300, 20_000);
  for (let i = 0; i < sizes.length; i++) {
    assert.equal(relay.received[i], concat(Uint8Array.of(16 + (i % 240)), payload(i)), `client frame ${i}`);
  }

  const got: Uint8Array[] = [];
  client.on('data', ({ connId, data }) => got.push(concat(Uint8Array.of(connId), data)));
  const last = client.waitFor('data', (e) => e.connId === 16 + (299 % 240), 20_000);
  for (let i = 0; i < sizes.length; i++) relay.send(concat(Uint8Array.of(16 + (i % 240)), payload(i)));
  await last;
  assert.is(got.length, 300);
  for (let i = 0; i < sizes.length; i++) assert.equal(got[i], concat(Uint8Array.of(16 + (i % 240)), payload(i)), `relay frame ${i}`);
  assert.not.ok(client.closed);
  client.close();
});

test('a frame right behind the reply in the same chunk is read, and a relay PING is auto-answered', async () => {
  const serverPing = Uint8Array.of(4, 1, 2, 3, 4, 5, 6, 7, 8);
  const { relay, client } = setup({ sendWithReply: [serverPing] });
  const ping = client.waitFor('ping');
  await client.handshake();
  assert.equal([...(await ping).id], [1, 2, 3, 4, 5, 6, 7, 8]);
  await relay.waitReceived(1);
  assert.equal([...relay.received[0]!], [5, 1, 2, 3, 4, 5, 6, 7, 8]);
  client.close();
});

test('autoPong: false leaves the relay PING unanswered', async () => {
  const { relay, client } = setup({ sendWithReply: [Uint8Array.of(4, 1, 1, 1, 1, 1, 1, 1, 1)], clientOptions: { autoPong: false } });
  const ping = client.waitFor('ping');
  await client.handshake();
  await ping;
  await client.ping(); // the relay's first packet from us is this PING, not a PONG
  assert.is(relay.received.length, 1);
  assert.is(relay.received[0]![0], 4);
  client.close();
});

test('a relay that does not hold the expected key closes; handshake() rejects and the client is closed', async () => {
  const { client } = setup({ wrongServerKey: true });
  const closed = client.waitFor('close');
  await rejectsWith(client.handshake(), 'CLOSED');
  assert.is((await closed).error, undefined);
  assert.ok(client.closed);
  assert.is(client.state, 'closed');
});

test('a reply that does not decrypt fails with HANDSHAKE_FAILED', async () => {
  const { client } = setup({ reply: (real) => real.map((b, i) => (i === 50 ? b ^ 1 : b)) });
  const closed = client.waitFor('close');
  await rejectsWith(client.handshake(), 'HANDSHAKE_FAILED');
  assert.is(((await closed).error as ClientError).code, 'HANDSHAKE_FAILED');
});

test('no reply: handshake() rejects after handshakeTimeoutMs', async () => {
  const { client } = setup({ silent: true, clientOptions: { handshakeTimeoutMs: 30 } });
  const started = Date.now();
  await rejectsWith(client.handshake(), 'HANDSHAKE_TIMEOUT');
  assert.ok(Date.now() - started >= 25);
  assert.ok(client.closed);
});

test('the hello may be sent in pieces through sendHello', async () => {
  const { relay, client } = setup();
  await client.handshake({
    sendHello: async (hello) => {
      client.sendRawBytes(hello.subarray(0, 127));
      await tick();
      assert.is(relay.clientPublicKey, undefined, 'relay answered 127 bytes');
      client.sendRawBytes(hello.subarray(127));
    },
  });
  assert.equal(relay.clientPublicKey, client.publicKey);
  client.close();
});

test('a tampered relay frame closes the client with DECRYPT_FAILED', async () => {
  const { relay, client } = setup();
  await client.connect();
  const closed = client.waitFor('close');
  const frame = relay.seal(Uint8Array.of(16, 1, 2, 3));
  frame[frame.length - 1]! ^= 0x80;
  relay.transport.write(frame);
  const error = (await closed).error as ClientError;
  assert.is(error.code, 'DECRYPT_FAILED');
  assert.throws(() => client.sendData(16, Uint8Array.of(1)), (e: unknown) => (e as ClientError).code === 'CLOSED');
});

test('a malformed relay packet is reported as a packet, then closes with MALFORMED_PACKET', async () => {
  const { relay, client } = setup();
  await client.connect();
  const packet = client.waitFor('packet', (e) => e.plaintext[0] === 1);
  const closed = client.waitFor('close');
  relay.send(new Uint8Array(33).fill(1)); // ROUTING_RESPONSE must be 34 bytes
  assert.is((await packet).plaintext.length, 33);
  assert.is(((await closed).error as ClientError).code, 'MALFORMED_PACKET');
});

test('send rules: no frames before the handshake; > 2032 throws and consumes no nonce', async () => {
  const { relay, client } = setup();
  assert.throws(() => client.sendPlaintext(Uint8Array.of(4)), /handshake first/);
  await client.handshake();
  assert.throws(() => client.sendPlaintext(new Uint8Array(2033)), RangeError);
  const max = new Uint8Array(2032).fill(16);
  client.sendPlaintext(max);
  client.routingRequest(client.publicKey);
  await relay.waitReceived(2); // the relay's nonce arithmetic would fail here had a nonce been skipped
  assert.equal(relay.received[0], max);
  assert.equal(relay.received[1], concat(Uint8Array.of(0), client.publicKey));
  client.close();
});

test('relay packets arrive as typed events, each also as a packet event', async () => {
  const { relay, client } = setup();
  await client.connect();
  const pk = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
  const seen: string[] = [];
  client.on('packet', ({ plaintext }) => seen.push(`packet:${plaintext[0]}`));
  const events = Promise.all([
    client.waitFor('routingResponse'),
    client.waitFor('connectNotification'),
    client.waitFor('data'),
    client.waitFor('oob'),
    client.waitFor('disconnectNotification'),
    client.waitFor('onionResponse'),
    client.waitFor('forwarding'),
  ]);
  relay.send(concat(Uint8Array.of(1, 16), pk));
  relay.send(Uint8Array.of(2, 16));
  relay.send(Uint8Array.of(16, 0xaa, 0xbb));
  relay.send(concat(Uint8Array.of(7), pk, Uint8Array.of(1, 2, 3, 4, 5)));
  relay.send(Uint8Array.of(3, 16));
  relay.send(Uint8Array.of(9, 0x86, 1));
  relay.send(Uint8Array.of(11, 2));
  const [routing, connected, data, oob, disconnected, onion, forwarding] = await events;
  assert.equal([routing.connId, [...routing.publicKey]], [16, [...pk]]);
  assert.is(connected.connId, 16);
  assert.equal([data.connId, [...data.data]], [16, [0xaa, 0xbb]]);
  assert.equal([[...oob.publicKey], [...oob.data]], [[...pk], [1, 2, 3, 4, 5]]);
  assert.is(disconnected.connId, 16);
  assert.equal([...onion.data], [0x86, 1]);
  assert.equal([...forwarding.data], [2]);
  assert.equal(seen, ['packet:1', 'packet:2', 'packet:16', 'packet:7', 'packet:3', 'packet:9', 'packet:11']);
  client.close();
});

test('the client senders put the right plaintexts on the wire', async () => {
  const { relay, client } = setup();
  await client.handshake();
  const pk = Uint8Array.from({ length: 32 }, (_, i) => 200 - i);
  client.routingRequest(pk);
  client.sendData(17, Uint8Array.of(5, 6));
  client.sendOob(pk, Uint8Array.of(7));
  client.disconnect(17);
  client.pong(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
  client.onionRequest(Uint8Array.of(0xee));
  client.forwardRequest(Uint8Array.of(0xdd));
  client.sendPlaintext(Uint8Array.of(12));
  await relay.waitReceived(8);
  assert.equal(relay.received.map((p) => [...p]), [
    [0, ...pk],
    [17, 5, 6],
    [6, ...pk, 7],
    [3, 17],
    [5, 1, 2, 3, 4, 5, 6, 7, 8],
    [8, 0xee],
    [10, 0xdd],
    [12],
  ]);
  client.close();
});

test('waitFor: predicate, timeout, rejection on close, immediate close on a closed client', async () => {
  const { relay, client } = setup();
  await client.connect();
  const second = client.waitFor('data', (e) => e.data[0] === 2);
  relay.send(Uint8Array.of(17, 1));
  relay.send(Uint8Array.of(17, 2));
  assert.equal([...(await second).data], [2]);
  await rejectsWith(client.waitFor('oob', undefined, 20), 'WAIT_TIMEOUT');
  const pending = client.waitFor('oob');
  // Delivery is asynchronous, so the relay's PONG cannot arrive before the close() just below.
  const pendingPing = client.ping(Uint8Array.of(1, 1, 1, 1, 1, 1, 1, 1), 60_000);
  client.close();
  await rejectsWith(pending, 'CLOSED');
  await rejectsWith(pendingPing, 'CLOSED');
  assert.equal(await client.waitFor('close'), {});
  await rejectsWith(client.waitFor('data'), 'CLOSED');
});

test.run();
