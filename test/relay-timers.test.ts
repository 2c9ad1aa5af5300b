// §7 over real sockets, on the relay's injected clock.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { delay, testRelay } from './support/relay.ts';

test('the relay pings 30 s after confirmation; an answering client stays', async () => {
  const r = await testRelay();
  try {
    const c = await r.connected();
    let pings = 0;
    c.on('ping', () => pings++);
    r.advance(29_000);
    await delay(50);
    assert.is(pings, 0);
    const ping = c.waitFor('ping');
    r.advance(1_000);
    const { id } = await ping;
    assert.ok(id.some((b) => b !== 0), 'non-zero ping id');
    await delay(50); // the automatic pong reaches the relay
    r.advance(10_000);
    await c.ping();
    assert.not.ok(c.closed);
  } finally {
    await r.close();
  }
});

test('a client that does not answer within 10 s is closed and its peer told', async () => {
  const r = await testRelay();
  try {
    const mute = await r.connected({ autoPong: false });
    const peer = await r.connected();
    const up = peer.waitFor('connectNotification');
    mute.routingRequest(peer.publicKey);
    peer.routingRequest(mute.publicKey);
    await up;
    const pinged = mute.waitFor('ping');
    r.advance(30_000);
    await pinged;
    await delay(50);
    r.advance(9_000);
    await delay(50);
    assert.not.ok(mute.closed);
    const closed = mute.waitFor('close');
    const down = peer.waitFor('disconnectNotification');
    r.advance(1_000);
    await closed;
    await down;
    assert.not.ok(peer.closed, 'the peer answered its ping and stays');
    assert.is(r.relay.stats.closes['ping-timeout'], 1);
  } finally {
    await r.close();
  }
});

test('a wrong pong does not count', async () => {
  const r = await testRelay();
  try {
    const c = await r.connected({ autoPong: false });
    const pinged = c.waitFor('ping');
    r.advance(30_000);
    const { id } = await pinged;
    c.pong(id.map((b) => b ^ 0xff));
    await c.ping();
    const closed = c.waitFor('close');
    r.advance(10_000);
    await closed;
  } finally {
    await r.close();
  }
});

test.run();
