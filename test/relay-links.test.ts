// §4–§5 and c-toxcore's TCP_test scenarios (§11) over real sockets.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { delay, testRelay } from './support/relay.ts';

test('TCP_test: own key refused; con1↔con3 link on slot 16; 512-byte data both ways in order', async () => {
  const r = await testRelay();
  try {
    const con1 = await r.connected(), con2 = await r.connected(), con3 = await r.connected();
    const own = con1.waitFor('routingResponse');
    con1.routingRequest(con1.publicKey);
    const refused = await own;
    assert.is(refused.connId, 0);
    assert.equal(refused.publicKey, con1.publicKey);

    const r1 = con1.waitFor('routingResponse');
    con1.routingRequest(con3.publicKey);
    assert.is((await r1).connId, 16);
    const up1 = con1.waitFor('connectNotification');
    const up3 = con3.waitFor('connectNotification');
    const r3 = con3.waitFor('routingResponse');
    con3.routingRequest(con1.publicKey);
    assert.is((await r3).connId, 16);
    assert.is((await up1).connId, 16);
    assert.is((await up3).connId, 16);

    const received: Uint8Array[] = [];
    con1.on('data', (d) => received.push(d.data));
    for (let i = 0; i < 3; i++) con3.sendData(16, new Uint8Array(512).fill(i + 1));
    await delay(100);
    assert.is(received.length, 3);
    received.forEach((d, i) => assert.equal(d, new Uint8Array(512).fill(i + 1)));
    const back = con3.waitFor('data');
    con1.sendData(16, new Uint8Array([5, 6, 7]));
    assert.equal((await back).data, new Uint8Array([5, 6, 7]));
    assert.not.ok(con2.closed);
  } finally {
    await r.close();
  }
});

test('TCP_test: PING 08 06 09 43 00 00 00 00 → PONG with the same bytes', async () => {
  const r = await testRelay();
  try {
    const c = await r.connected();
    assert.equal(Array.from(await c.ping(new Uint8Array([8, 6, 9, 0x43, 0, 0, 0, 0]))), [8, 6, 9, 0x43, 0, 0, 0, 0]);
    assert.equal(Array.from(await c.ping(new Uint8Array(8))), new Array(8).fill(0), 'even id 0 is answered');
  } finally {
    await r.close();
  }
});

test('TCP_test: OOB from conn2 to conn → [7][conn2 pk][01 02 03 04 05]; to self too; unknown key dropped', async () => {
  const r = await testRelay();
  try {
    const conn = await r.connected(), conn2 = await r.connected();
    const got = conn.waitFor('oob');
    conn2.sendOob(conn.publicKey, new Uint8Array([1, 2, 3, 4, 5]));
    const oob = await got;
    assert.equal(oob.publicKey, conn2.publicKey);
    assert.equal(oob.data, new Uint8Array([1, 2, 3, 4, 5]));
    const self = conn.waitFor('oob');
    conn.sendOob(conn.publicKey, new Uint8Array([9]));
    assert.equal((await self).publicKey, conn.publicKey);
    conn.sendOob(new Uint8Array(32).fill(7), new Uint8Array([1]));
    await conn.ping();
  } finally {
    await r.close();
  }
});

test('one-sided request: no link while the peer has not asked back; data is dropped silently', async () => {
  const r = await testRelay();
  try {
    const a = await r.connected(), b = await r.connected();
    let notified = false;
    a.on('connectNotification', () => (notified = true));
    a.routingRequest(b.publicKey);
    const { connId } = await a.waitFor('routingResponse');
    a.sendData(connId, new Uint8Array([1]));
    await a.ping();
    await delay(50);
    assert.not.ok(notified);
    assert.not.ok(a.closed);
  } finally {
    await r.close();
  }
});

test('disconnect request: the peer is told, the sender hears nothing; asking again relinks', async () => {
  const r = await testRelay();
  try {
    const { a, b, aId, bId } = await r.linkedPair();
    let aHeard = 0;
    a.on('disconnectNotification', () => aHeard++);
    const down = b.waitFor('disconnectNotification');
    a.disconnect(aId);
    assert.is((await down).connId, bId);
    await a.ping();
    assert.is(aHeard, 0);
    const upA = a.waitFor('connectNotification');
    const upB = b.waitFor('connectNotification');
    a.routingRequest(b.publicKey);
    await Promise.all([upA, upB]);
  } finally {
    await r.close();
  }
});

test('a client that hangs up is noticed at once; its linked peer is told at once', async () => {
  const r = await testRelay();
  try {
    const { a, b, bId } = await r.linkedPair();
    const down = b.waitFor('disconnectNotification', undefined, 1000);
    a.close();
    assert.is((await down).connId, bId);
    assert.is(r.relay.connectionCount, 1);
  } finally {
    await r.close();
  }
});

test('data keeps its order under load (1000 packets, one pair)', async () => {
  const r = await testRelay();
  try {
    const { a, b, aId } = await r.linkedPair();
    const seen: number[] = [];
    const all = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${seen.length} of 1000 arrived`)), 5000);
      b.on('data', (d) => {
        seen.push(new DataView(d.data.buffer, d.data.byteOffset).getUint32(0));
        if (seen.length === 1000) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    for (let i = 0; i < 1000; i++) {
      const p = new Uint8Array(100);
      new DataView(p.buffer).setUint32(0, i);
      a.sendData(aId, p);
    }
    await all;
    assert.equal(seen, Array.from({ length: 1000 }, (_, i) => i));
  } finally {
    await r.close();
  }
});

test.run();
