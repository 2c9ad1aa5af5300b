// What c-toxcore leaves unbounded (§3, §6, §7) is bounded here: connections, connections per
// address, and output to a client that stops reading.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { OutputBudget } from '../src/relay/output-budget.ts';
import { EVICT_AFTER_MS } from '../src/relay/relay.ts';
import { closedWithin, delay, pairStillWorks, stillOpenAfter, testRelay, type TestRelay } from './support/relay.ts';

/** Waits (up to 2 s) until the relay holds `count` connections: a raw socket is attached a moment after it connects. */
async function untilConnections(r: TestRelay, count: number): Promise<void> {
  for (let i = 0; i < 400 && r.relay.connectionCount !== count; i++) await delay(5);
  assert.is(r.relay.connectionCount, count);
}

test('the connection cap refuses sockets beyond it and frees a place when one closes', async () => {
  const r = await testRelay({ maxConnections: 3 });
  try {
    const first = await r.connected();
    await r.connected();
    await r.connected();
    const refused = await r.raw();
    await closedWithin(refused);
    assert.is(r.relay.stats.refusedFull, 1);
    const gone = first.waitFor('close');
    first.close();
    await gone;
    await delay(50);
    await r.connected();
  } finally {
    await r.close();
  }
});

test('a full table makes room by closing its oldest unconfirmed connection, not a young one, never a confirmed one', async () => {
  const r = await testRelay({ maxConnections: 3 });
  try {
    const confirmed = await r.connected();
    const idleOld = await r.raw(); // sends nothing, as a socket that holds a place
    await untilConnections(r, 2);
    r.clock.advance(EVICT_AFTER_MS - 500);
    const idleYoung = await r.raw();
    await untilConnections(r, 3);
    // Both unconfirmed ones are younger than EVICT_AFTER_MS: the newcomer is refused.
    await closedWithin(await r.raw());
    assert.is(r.relay.stats.refusedFull, 1);
    r.clock.advance(600); // idleOld is now past it, idleYoung not
    const newcomer = await r.connected();
    await closedWithin(idleOld);
    assert.ok(await stillOpenAfter(idleYoung, 100), 'only the oldest made room');
    assert.is(r.relay.stats.closes.evicted, 1);
    r.clock.advance(EVICT_AFTER_MS);
    const another = await r.connected();
    await closedWithin(idleYoung);
    // Every place is held by a confirmed client now: the next newcomer is refused.
    await closedWithin(await r.raw());
    assert.is(r.relay.stats.refusedFull, 2);
    assert.is(r.relay.stats.closes.evicted, 2);
    for (const c of [confirmed, newcomer, another]) await c.ping();
  } finally {
    await r.close();
  }
});

test('a full table evicts a connection that never sent its hello before one that handshook and is slow to confirm', async () => {
  const r = await testRelay({ maxConnections: 3 });
  try {
    await r.connected();
    const slow = await r.client();
    await slow.handshake(); // older, handshaken, no first frame yet
    r.clock.advance(100);
    const silent = await r.raw();
    await untilConnections(r, 3);
    r.clock.advance(EVICT_AFTER_MS + 100);
    await r.connected();
    await closedWithin(silent);
    assert.not.ok(slow.closed, 'the handshaken one stays while a silent one can go');
    r.clock.advance(100);
    await r.connected();
    await slow.waitFor('close');
    assert.is(r.relay.stats.closes.evicted, 2);
  } finally {
    await r.close();
  }
});

test('a newcomer that evicts a connection from its own address is counted once, not twice', async () => {
  const r = await testRelay({ maxConnections: 3, maxPerIp: 2 });
  try {
    const other = await r.connected({ localAddress: '127.0.0.2' });
    await r.connected({ localAddress: '127.0.0.2' });
    const idle = await r.raw(); // from 127.0.0.1, which now holds one place of two
    await untilConnections(r, 3);
    r.clock.advance(EVICT_AFTER_MS + 100);
    await r.connected(); // from 127.0.0.1: evicts idle, its own address's
    await closedWithin(idle);
    const gone = other.waitFor('close');
    other.close();
    await gone;
    await delay(50);
    // 127.0.0.1 holds one connection: a second one is within its cap of two.
    await (await r.connected()).ping();
    assert.is(r.relay.stats.refusedPerIp, 0);
  } finally {
    await r.close();
  }
});

test('the per-address cap counts each source address on its own', async () => {
  const r = await testRelay({ maxPerIp: 2 });
  try {
    await r.connected();
    const second = await r.connected();
    const third = await r.client();
    await third.handshake().catch(() => undefined);
    await third.waitFor('close');
    assert.is(r.relay.stats.refusedPerIp, 1);
    // another loopback address is another host
    await r.connected({ localAddress: '127.0.0.2' });
    const gone = second.waitFor('close');
    second.close();
    await gone;
    await delay(50);
    await r.connected();
  } finally {
    await r.close();
  }
});

test('a linked client that stops reading: data to it is dropped, memory stays bounded, the sender is not punished', async () => {
  const dropAboveBytes = 32 * 1024;
  const r = await testRelay({ dropAboveBytes, closeAboveBytes: 1024 * 1024 });
  try {
    const { a, b, aId } = await r.linkedPair();
    b.socket.pause();
    const payload = new Uint8Array(1000);
    const rssBefore = process.memoryUsage().rss;
    for (let i = 0; i < 20_000 && r.relay.stats.dropped < 2000; i++) {
      new DataView(payload.buffer).setUint32(0, i);
      a.sendData(aId, payload);
      if (i % 200 === 199) await delay(1);
    }
    await a.ping(); // the sender is served throughout
    assert.ok(r.relay.stats.dropped >= 2000, `dropped ${r.relay.stats.dropped}`);
    assert.not.ok(b.closed, 'dropping data is not a reason to close');
    const grew = process.memoryUsage().rss - rssBefore;
    assert.ok(grew < 64 * 1024 * 1024, `rss grew by ${grew} bytes`);

    // When it reads again it gets an ordered subset, and fresh data flows once more.
    const seen: number[] = [];
    b.on('data', (d) => {
      if (d.data.length === payload.length) seen.push(new DataView(d.data.buffer, d.data.byteOffset).getUint32(0));
    });
    b.socket.resume();
    await delay(300);
    assert.ok(seen.length > 0);
    assert.ok(seen.every((v, i) => i === 0 || v > seen[i - 1]!), 'in order');
    const fresh = b.waitFor('data', (d) => d.data[0] === 0xee);
    a.sendData(aId, new Uint8Array([0xee]));
    await fresh;
  } finally {
    await r.close();
  }
});

test('the output budget: within it nothing changes; over it relayed packets are dropped at a share, and non-readers closed largest first', () => {
  const KiB = 1024;
  const budget = new OutputBudget(100 * KiB, 32 * KiB);
  const session = (kib: number) => ({ alive: true, backlog: () => kib * KiB });
  assert.equal(budget.review([session(30), undefined, session(33), session(20)]), []);
  assert.is(budget.dropAt, 32 * KiB, 'within the budget');
  assert.is(budget.total, 83 * KiB);
  // Over it, but every backlog is at most a relayed packet past 32 KiB: nobody is closed, and
  // relayed packets are dropped above 100 / 4 KiB each.
  const throttled = [session(33), session(34), session(33), session(10)];
  assert.equal(budget.review(throttled), []);
  assert.is(budget.dropAt, 25 * KiB);
  // Clients that stopped reading (replies piled up past 34 KiB): the largest go until the rest fit.
  const big = session(200);
  const bigger = session(300);
  const closed = budget.review([...throttled, big, bigger, { alive: false, backlog: () => 999 * KiB }]);
  assert.equal(closed, [bigger, big]);
  assert.is(budget.total, 110 * KiB);
  assert.is(budget.dropAt, 25 * KiB, 'still over: the four left share it');
  const lone = session(300);
  assert.equal(budget.review([lone, session(10)]), [lone]);
  assert.is(budget.dropAt, 32 * KiB, 'back within the budget: the usual threshold');
});

test('over the output budget, the timer pass closes a client that stopped reading, not one that reads slowly', async () => {
  const dropAboveBytes = 16 * 1024;
  const r = await testRelay({ dropAboveBytes, closeAboveBytes: 4 * 1024 * 1024, outputBudgetBytes: 64 * 1024 });
  try {
    // A slow reader: relayed data backs up to the drop threshold (the kernel's buffers fill first).
    const slow = await r.linkedPair();
    slow.b.socket.pause();
    const payload = new Uint8Array(1000);
    for (let i = 0; i < 20_000 && r.relay.stats.dropped === 0; i++) {
      slow.a.sendData(slow.aId, payload);
      if (i % 200 === 199) await delay(1);
    }
    await slow.a.ping();
    assert.ok(r.relay.stats.dropped > 0, 'the slow reader is backed up');
    // A client that stopped reading and floods pings: its pongs pile up past the budget.
    const flooder = await r.connected();
    flooder.socket.pause();
    const ping = new Uint8Array([4, 1, 2, 3, 4, 5, 6, 7, 8]);
    for (let sent = 0; sent < 1_000_000; sent += 1000) {
      flooder.sendRawBytes(Buffer.concat(Array.from({ length: 1000 }, () => flooder.sealFrame(ping))));
      await delay(1);
      r.relay.runTimers();
      if (r.relay.stats.closes['output-overflow']) break;
    }
    assert.is(r.relay.stats.closes['output-overflow'], 1, 'the flooder, and only it');
    assert.ok(r.relay.slotOf(flooder.publicKey) < 0);
    assert.ok(r.relay.slotOf(slow.b.publicKey) >= 0, 'the slow reader keeps its connection');
    // It catches up with what was queued for it (its ping is answered after all of it); then
    // fresh data flows again.
    slow.b.socket.resume();
    await slow.b.ping(undefined, 10_000);
    await pairStillWorks(slow);
  } finally {
    await r.close();
  }
});

test('a client that floods pings and never reads the pongs is closed, and others are unaffected', async () => {
  const r = await testRelay({ dropAboveBytes: 16 * 1024, closeAboveBytes: 64 * 1024 });
  try {
    const pair = await r.linkedPair();
    const flooder = await r.connected();
    flooder.socket.pause();
    const closed = flooder.waitFor('close', undefined, 20_000);
    let sent = 0;
    // Kernel buffers on loopback hold a few MB before the relay's own backlog grows.
    const ping = new Uint8Array([4, 1, 2, 3, 4, 5, 6, 7, 8]);
    while (!flooder.closed && sent < 1_000_000) {
      const frames = Array.from({ length: 1000 }, () => flooder.sealFrame(ping));
      flooder.sendRawBytes(Buffer.concat(frames));
      sent += 1000;
      await delay(1);
    }
    await closed;
    assert.is(r.relay.stats.closes['output-overflow'], 1, JSON.stringify(r.relay.stats.closes));
    assert.ok(sent < 1_000_000);
    await pairStillWorks(pair);
  } finally {
    await r.close();
  }
});

test('listens on several ports at once', async () => {
  const r = await testRelay({ ports: [0, 0, 0] });
  try {
    assert.is(r.running.ports.length, 3);
    assert.is(new Set(r.running.ports).size, 3);
    const { connect } = await import('node:net');
    for (const port of r.running.ports) {
      const s = connect(port, '127.0.0.1');
      await new Promise((res, rej) => { s.once('connect', res); s.once('error', rej); });
      assert.ok(await stillOpenAfter(s, 20));
      s.destroy();
    }
  } finally {
    await r.close();
  }
});

test('with no bind address it serves IPv4 and IPv6 clients on one port (dual-stack)', async () => {
  const r = await testRelay({ host: undefined });
  try {
    const { RelayClient } = await import('../src/client/index.ts');
    const { connectTcp } = await import('../src/client/tcp.ts');
    for (const address of ['127.0.0.1', '::1']) {
      const c = new RelayClient({ transport: await connectTcp(address, r.port), serverPublicKey: r.publicKey });
      await c.connect();
      c.close();
    }
  } finally {
    await r.close();
  }
});

test.run();
