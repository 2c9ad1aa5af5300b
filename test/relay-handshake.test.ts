// §1 over real sockets: the handshake, its failures, confirmation and same-key replacement.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { closedWithin, delay, pairStillWorks, sodium, stillOpenAfter, testRelay } from './support/relay.ts';

test('a valid handshake gets a 96-byte reply that opens with the long-term key', async () => {
  const r = await testRelay();
  try {
    const socket = await r.raw();
    const client = sodium.crypto_box_keypair();
    const eph = sodium.crypto_box_keypair();
    const nc = sodium.randombytes_buf(24);
    const n1 = sodium.randombytes_buf(24);
    const kLt = sodium.crypto_box_beforenm(r.publicKey, client.privateKey);
    const inner = new Uint8Array([...eph.publicKey, ...nc]);
    socket.write(new Uint8Array([...client.publicKey, ...n1, ...sodium.crypto_box_easy_afternm(inner, n1, kLt)]));
    const reply: Buffer = await new Promise((resolve) => {
      let acc = Buffer.alloc(0);
      socket.on('data', (b: Buffer) => {
        acc = Buffer.concat([acc, b]);
        if (acc.length >= 96) resolve(acc);
      });
    });
    assert.is(reply.length, 96);
    const body = sodium.crypto_box_open_easy_afternm(reply.subarray(24, 96), reply.subarray(0, 24), kLt);
    assert.is(body.length, 56, 'Se_pk ‖ Ns');
    assert.ok(await stillOpenAfter(socket, 100));
  } finally {
    await r.close();
  }
});

test('a client confirms with its first frame; the relay then counts it', async () => {
  const r = await testRelay();
  try {
    const c = await r.client();
    await c.handshake();
    assert.is(r.relay.stats.handshakes, 1);
    await c.ping();
    assert.is(c.state, 'confirmed');
  } finally {
    await r.close();
  }
});

test('a handshake in pieces (127 bytes, then 1) is accepted', async () => {
  const r = await testRelay();
  try {
    const c = await r.client();
    await c.handshake({
      sendHello: async (hello) => {
        c.sendRawBytes(hello.subarray(0, 127));
        await delay(50);
        c.sendRawBytes(hello.subarray(127));
      },
    });
    await c.ping();
  } finally {
    await r.close();
  }
});

test('a wrong server key, garbage or a low-order client key: closed, nothing sent; others unaffected', async () => {
  const r = await testRelay();
  try {
    const pair = await r.linkedPair();
    const wrongKey = await r.client({ serverPublicKey: sodium.crypto_box_keypair().publicKey });
    const rejected = wrongKey.handshake().then(() => 'accepted', () => 'rejected');
    assert.is(await rejected, 'rejected');

    const garbage = await r.raw();
    garbage.write(sodium.randombytes_buf(128));
    assert.is((await closedWithin(garbage)).length, 0, 'no reply to garbage');

    // c-toxcore accepts an all-zero key boxed under an all-zero K_lt (§1 step 3); we must not.
    const lowOrder = await r.raw();
    const n1 = sodium.randombytes_buf(24);
    const boxed = sodium.crypto_box_easy_afternm(new Uint8Array(56), n1, new Uint8Array(32));
    lowOrder.write(new Uint8Array([...new Uint8Array(32), ...n1, ...boxed]));
    assert.is((await closedWithin(lowOrder)).length, 0, 'no reply to a low-order key');

    assert.is(r.relay.stats.handshakesFailed, 3);
    await pairStillWorks(pair);
  } finally {
    await r.close();
  }
});

test('a short handshake waits, then the handshake timeout closes it', async () => {
  const r = await testRelay({ handshakeTimeoutMs: 10_000 });
  try {
    const s = await r.raw();
    s.write(sodium.randombytes_buf(100));
    assert.ok(await stillOpenAfter(s, 200), 'waits for the rest');
    r.advance(9_000);
    assert.ok(await stillOpenAfter(s, 100));
    r.advance(1_000);
    await closedWithin(s);
    assert.is(r.relay.stats.closes['handshake-timeout'], 1);
  } finally {
    await r.close();
  }
});

test('a handshaken connection that never confirms is closed by the same timeout', async () => {
  const r = await testRelay({ handshakeTimeoutMs: 5_000 });
  try {
    const c = await r.client();
    await c.handshake();
    const closed = c.waitFor('close');
    r.advance(5_000);
    await closed;
  } finally {
    await r.close();
  }
});

test('bytes after the hello are framed: zero-length padding is fine, garbage closes', async () => {
  const r = await testRelay();
  try {
    const padded = await r.client();
    await padded.handshake({ sendHello: (hello) => padded.sendRawBytes(new Uint8Array([...hello, 0, 0, 0, 0])) });
    await padded.ping();

    const junk = await r.client();
    const outcome = junk.handshake({ sendHello: (hello) => junk.sendRawBytes(new Uint8Array([...hello, 0, 20, ...new Array(20).fill(7)])) });
    await outcome.catch(() => undefined);
    await junk.waitFor('close');
  } finally {
    await r.close();
  }
});

test('same key: a handshake alone leaves the old connection; confirming replaces it and tells its peers', async () => {
  const r = await testRelay();
  try {
    const identity = sodium.crypto_box_keypair();
    const old = await r.connected({ keyPair: identity });
    const peer = await r.connected();
    const up = peer.waitFor('connectNotification');
    old.routingRequest(peer.publicKey);
    peer.routingRequest(old.publicKey);
    const { connId } = await up;

    const fresh = await r.client({ keyPair: identity });
    await fresh.handshake();
    await old.ping(); // still served
    const down = peer.waitFor('disconnectNotification');
    const oldClosed = old.waitFor('close');
    await fresh.ping(); // confirms
    assert.is((await down).connId, connId);
    await oldClosed;
    // the peer still names the key, so the new connection links at once
    const relinked = peer.waitFor('connectNotification');
    fresh.routingRequest(peer.publicKey);
    assert.is((await relinked).connId, connId);
  } finally {
    await r.close();
  }
});

test.run();
