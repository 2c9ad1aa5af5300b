// §8 and §9 over real sockets: onion requests and forward requests leave by UDP, and replies
// come back only when authentic, well-formed and for a connection that is still the same one.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ManualClock } from '../src/clock.ts';
import { DestinationFilter, INTERFACES_REFRESH_MS } from '../src/udp/destinations.ts';
import { delay, testRelay, type TestRelay } from './support/relay.ts';

/** A UDP peer on 127.0.0.1 playing onion hop 2 or a forwarding target. */
async function udpPeer() {
  const socket: UdpSocket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const received: Buffer[] = [];
  socket.on('message', (m) => received.push(m));
  return {
    port: socket.address().port,
    received,
    async next(ms = 2000): Promise<Buffer> {
      const until = Date.now() + ms;
      while (received.length === 0) {
        if (Date.now() > until) throw new Error('no datagram');
        await delay(5);
      }
      return received.shift()!;
    },
    send(bytes: Uint8Array, port: number) {
      socket.send(bytes, port, '127.0.0.1');
    },
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

type Peer = Awaited<ReturnType<typeof udpPeer>>;

let r: TestRelay;
let hop: Peer;
let udpPort: number;

test.before.each(async () => {
  r = await testRelay({ udpPort: 0, udpToThisHost: true }); // the peers below are on this machine
  hop = await udpPeer();
  udpPort = r.running.udpPort!;
});
test.after.each(async () => {
  await r.close();
  await hop.close();
});

/** The body of an onion request (after the id byte) of total plaintext length `length`. */
function onionBody(length: number, port: number, family = 2): Uint8Array {
  const body = new Uint8Array(length - 1);
  body.fill(0x11, 0, 24); // nonce
  body[24] = family;
  body.set([127, 0, 0, 1], 25);
  body[24 + 17] = port >> 8;
  body[24 + 18] = port & 0xff;
  for (let i = 43; i < body.length; i++) body[i] = i & 0xff; // hop-2 key and box
  return body;
}

function onionReply(returnBlob: Uint8Array, payload: number[]): Uint8Array {
  return new Uint8Array([0x8e, ...returnBlob, ...payload]);
}

test('an onion request leaves as 0x81 (P + 40 bytes) and its reply comes back as ONION_RESPONSE', async () => {
  const c = await r.connected();
  const body = onionBody(300, hop.port);
  c.onionRequest(body);
  const out = await hop.next();
  assert.is(out.length, 300 + 40);
  assert.is(out[0], 0x81);
  assert.equal(out.subarray(1, 25), Buffer.from(body.subarray(0, 24)), 'nonce copied');
  assert.equal(out.subarray(25, 25 + 256), Buffer.from(body.subarray(43)), 'hop-2 key and box copied');
  const blob = out.subarray(out.length - 59);
  for (const inner of [0x84, 0x86, 0x88]) {
    const got = c.waitFor('onionResponse');
    hop.send(onionReply(blob, [inner, 1, 2, 3]), udpPort);
    assert.equal(Array.from((await got).data), [inner, 1, 2, 3]);
  }
});

test('onion request sizes: ≤ 159 closes; 160..178 and > 1360 send nothing; a non-IP family sends nothing', async () => {
  const c = await r.connected();
  for (const len of [160, 178, 1361]) c.onionRequest(onionBody(len, hop.port));
  c.onionRequest(onionBody(400, hop.port, 11));
  c.onionRequest(onionBody(400, hop.port, 10)); // IPv6 cannot leave an IPv4 socket
  c.onionRequest(onionBody(179, hop.port));
  const out = await hop.next();
  assert.is(out.length, 179 + 40, 'only the 179-byte request left');
  await delay(50);
  assert.is(hop.received.length, 0);
  const closed = c.waitFor('close');
  c.onionRequest(onionBody(159, hop.port));
  await closed;
});

test('tampered, truncated, oversize or unknown replies are dropped without a reply', async () => {
  const c = await r.connected();
  c.onionRequest(onionBody(300, hop.port));
  const blob = (await hop.next()).subarray(340 - 59);
  let responses = 0;
  c.on('onionResponse', () => responses++);
  const tampered = Buffer.from(blob);
  tampered[30]! ^= 1;
  hop.send(onionReply(tampered, [0x84, 1]), udpPort);
  hop.send(onionReply(blob, [0x85, 1]), udpPort); // unknown inner id
  hop.send(onionReply(blob, []), udpPort); // 60 bytes: nothing after the blob
  hop.send(onionReply(blob, [0x84, ...new Array(1400 - 60).fill(0)]), udpPort); // 1401 bytes
  hop.send(onionReply(blob.subarray(0, 40), [0x84, 1]), udpPort);
  for (const id of [0x00, 0x01, 0x02, 0x81, 0x8e, 0x91, 0x92, 0xff]) hop.send(new Uint8Array([id, ...new Array(80).fill(id)]), udpPort);
  hop.send(new Uint8Array([]), udpPort);
  await delay(150);
  assert.is(responses, 0);
  assert.is(hop.received.length, 0, 'the relay never answers a datagram');
  // the largest valid reply still passes
  const got = c.waitFor('onionResponse');
  hop.send(onionReply(blob, [0x86, ...new Array(1400 - 61).fill(7)]), udpPort);
  assert.is((await got).data.length, 1340);
  assert.ok(r.running.udpStats!.dropped >= 13);
});

test('a reply for a connection that has gone is not delivered to the next one in its slot (identifier check)', async () => {
  const identity = (await import('./support/relay.ts')).sodium.crypto_box_keypair();
  const first = await r.connected({ keyPair: identity });
  const firstSlot = r.relay.slotOf(identity.publicKey);
  first.onionRequest(onionBody(300, hop.port));
  const blob = (await hop.next()).subarray(340 - 59);
  const closed = first.waitFor('close');
  first.close();
  await closed;
  await delay(50);
  const second = await r.connected({ keyPair: identity });
  assert.is(r.relay.slotOf(identity.publicKey), firstSlot, 'the slot was reused');
  let responses = 0;
  second.on('onionResponse', () => responses++);
  hop.send(onionReply(blob, [0x84, 1]), udpPort);
  await delay(100);
  assert.is(responses, 0);
  await second.ping();
});

test('return blobs stop working once the key is replaced (7200 s)', async () => {
  const c = await r.connected({ autoPong: true });
  c.onionRequest(onionBody(300, hop.port));
  const blob = (await hop.next()).subarray(340 - 59);
  r.clock.advance(7_200_000);
  let responses = 0;
  c.on('onionResponse', () => responses++);
  hop.send(onionReply(blob, [0x84, 1]), udpPort);
  await delay(100);
  assert.is(responses, 0);
});

function forwardBody(port: number, data: number[]): Uint8Array {
  return new Uint8Array([2, 127, 0, 0, 1, port >> 8, port & 0xff, ...data]);
}

test('a forward request leaves as 0x91 with an authenticated sendback; the reply comes back as FORWARDING', async () => {
  const c = await r.connected();
  c.forwardRequest(forwardBody(hop.port, [5, 6, 7]));
  const out = await hop.next();
  assert.is(out.length, 47 + 3);
  assert.equal(Array.from(out.subarray(0, 2)), [0x91, 45]);
  assert.is(out[2 + 32], 0x02);
  assert.equal(Array.from(out.subarray(47)), [5, 6, 7]);
  const sendback = out.subarray(2, 47);
  const got = c.waitFor('forwarding');
  hop.send(new Uint8Array([0x92, 45, ...sendback, 9, 8]), udpPort);
  assert.equal(Array.from((await got).data), [9, 8]);

  // empty data is allowed out
  c.forwardRequest(forwardBody(hop.port, []));
  assert.is((await hop.next()).length, 47);
});

test('forged, malformed or expired forward replies are dropped', async () => {
  const c = await r.connected();
  c.forwardRequest(forwardBody(hop.port, [1]));
  const sendback = Buffer.from((await hop.next()).subarray(2, 47));
  let replies = 0;
  c.on('forwarding', () => replies++);
  const forged = Buffer.from(sendback);
  forged[0]! ^= 1;
  hop.send(new Uint8Array([0x92, 45, ...forged, 1]), udpPort);
  const otherSlot = Buffer.from(sendback);
  otherSlot[33]! ^= 1;
  hop.send(new Uint8Array([0x92, 45, ...otherSlot, 1]), udpPort);
  hop.send(new Uint8Array([0x92, 32, ...sendback.subarray(0, 32), 1]), udpPort); // sblen < 33
  hop.send(new Uint8Array([0x92, 255, ...sendback, 1]), udpPort); // sblen > 254
  hop.send(new Uint8Array([0x92, 45, ...sendback.subarray(0, 40)]), udpPort); // shorter than its sblen
  await delay(100);
  assert.is(replies, 0);
  // one hour later it is still good (the previous window), two hours later it is not
  r.clock.advance(3_600_000);
  const got = c.waitFor('forwarding');
  hop.send(new Uint8Array([0x92, 45, ...sendback, 2]), udpPort);
  await got;
  r.clock.advance(3_600_000);
  hop.send(new Uint8Array([0x92, 45, ...sendback, 3]), udpPort);
  await delay(100);
  assert.is(replies, 1);
  assert.is(hop.received.length, 0, 'no datagram ever answered');
});

test('forward requests with a TCP family, a truncated address or data over 1792 close the sender only', async () => {
  const bystander = await r.connected();
  const cases: number[][] = [
    [130, 127, 0, 0, 1, 0, 80, 1],
    [2, 127, 0, 0],
    [2, 127, 0, 0, 1, 0, 80, ...new Array(1793).fill(0)],
  ];
  for (const body of cases) {
    const c = await r.connected();
    const closed = c.waitFor('close');
    c.forwardRequest(new Uint8Array(body));
    await closed;
  }
  await bystander.ping();
});

test('the destination filter: nowhere and many hosts always refused, this machine unless allowed, read again after a minute', () => {
  const v4 = (address: string) => ({ ipv6: false, address, port: 1 });
  const v6 = (address: string) => ({ ipv6: true, address, port: 1 });
  const clock = new ManualClock(0);
  let own = [{ address: '192.0.2.2', family: 'IPv4' }, { address: 'fe80::fc:ff:fe00:1%eth0', family: 'IPv6' }];
  const strict = new DestinationFilter(false, clock, () => own);
  const local = new DestinationFilter(true, clock, () => own);
  const thisHost = [v4('127.0.0.1'), v4('127.9.8.7'), v6('0:0:0:0:0:0:0:1'), v6('0:0:0:0:0:ffff:7f00:1'), v4('192.0.2.2'), v6('fe80:0:0:0:fc:ff:fe00:1'), v6('0:0:0:0:0:ffff:c000:202')];
  for (const to of thisHost) {
    assert.ok(strict.refuses(to), `${to.address}: this machine`);
    assert.not.ok(local.refuses(to), `${to.address}: allowed for a network on one machine`);
  }
  const never = [v4('0.0.0.0'), v4('0.1.2.3'), v4('224.0.0.1'), v4('239.255.255.250'), v4('240.0.0.1'), v4('255.255.255.255'),
    v6('0:0:0:0:0:0:0:0'), v6('ff02:0:0:0:0:0:0:1'), v6('ff05:0:0:0:0:0:1:3'), v6('0:0:0:0:0:ffff:e000:1'), v6('0:0:0:0:0:ffff:0:0')];
  for (const to of never) for (const filter of [strict, local]) assert.ok(filter.refuses(to), to.address);
  const fine = [v4('1.2.3.4'), v4('10.0.0.1'), v4('192.168.1.20'), v4('192.0.2.3'), v4('223.255.255.255'), v6('2001:db8:0:0:0:0:0:1'), v6('0:0:0:0:0:ffff:102:304')];
  for (const to of fine) assert.not.ok(strict.refuses(to), to.address);
  // A new address of this machine counts once the list is read again.
  own = [...own, { address: '10.0.0.1', family: 'IPv4' }];
  assert.not.ok(strict.refuses(v4('10.0.0.1')), 'not yet read');
  clock.advance(INTERFACES_REFRESH_MS);
  assert.ok(strict.refuses(v4('10.0.0.1')));
  // Reading the interfaces fails (out of file descriptors): no throw, the last list stays.
  own = [];
  const failing = new DestinationFilter(false, clock, () => {
    if (own.length === 0) return [{ address: '192.0.2.9', family: 'IPv4' }];
    throw Object.assign(new Error('EMFILE'), { code: 'ERR_SYSTEM_ERROR' });
  });
  own = [{ address: 'x', family: 'IPv4' }];
  clock.advance(INTERFACES_REFRESH_MS);
  assert.ok(failing.refuses(v4('192.0.2.9')), 'the last list read');
  assert.ok(failing.refuses(v4('127.0.0.1')), 'loopback whatever the interfaces');
});

test('without --udp-to-this-host onion and forward requests to this machine are refused and counted', async () => {
  const strict = await testRelay({ udpPort: 0, udpToThisHost: false });
  try {
    const c = await strict.connected();
    c.onionRequest(onionBody(300, hop.port));
    c.forwardRequest(forwardBody(hop.port, [1, 2, 3]));
    await c.ping(); // both requests were handled before the pong
    await delay(50);
    assert.is(hop.received.length, 0, 'nothing reached the local service');
    const udp = strict.running.udpStats!;
    assert.is(udp.refusedDestinations, 2);
    assert.is(udp.onionSent + udp.forwardSent, 0);
  } finally {
    await strict.close();
  }
});

test.run();
