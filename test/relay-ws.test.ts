// The WebSocket side of the relay (--ws-port): the same Tox stream as TCP in binary messages whose
// boundaries carry no meaning, the same caps and timers, and bad WebSocket input closing only the
// connection that sent it. Real sockets on 127.0.0.1, real crypto, the `ws` package as the client.
import { request } from 'node:http';
import { createConnection, type Socket } from 'node:net';
import { readFile } from 'node:fs/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WebSocket } from 'ws';
import { RelayClient } from '../src/client/index.ts';
import { connectWebSocket, type WebSocketConstructor } from '../src/client/ws.ts';
import { WS_MAX_FRAGMENTS, WS_MAX_MESSAGE_BYTES } from '../src/relay/ws.ts';
import { createHello } from '../src/client/handshake.ts';
import { encodeOobSend, encodePing, encodeRoutingRequest } from '../src/client/packets.ts';
import { generateKeyPair, ready } from '../src/client/sodium.ts';
import { closedWithin, delay, linkClients, pairStillWorks, testRelay } from './support/relay.ts';

// The browser's WebSocket fits the transport's constructor type too (checked by tsc, not run).
export const browserWebSocketFits: WebSocketConstructor | undefined = (globalThis as { WebSocket?: typeof globalThis.WebSocket }).WebSocket;


/** Data and OOB both ways between a linked pair. */
async function exchange(pair: { a: RelayClient; b: RelayClient; aId: number; bId: number }, size = 600) {
  const payload = new Uint8Array(size).map((_, i) => i * 7);
  const toB = pair.b.waitFor('data');
  pair.a.sendData(pair.aId, payload);
  const gotB = await toB;
  assert.is(gotB.connId, pair.bId);
  assert.equal(gotB.data, payload);
  const toA = pair.a.waitFor('data');
  pair.b.sendData(pair.bId, payload.subarray(0, 5));
  assert.equal((await toA).data, payload.subarray(0, 5));

  const oobToB = pair.b.waitFor('oob');
  pair.a.sendOob(pair.b.publicKey, Uint8Array.of(1, 2, 3));
  const oobB = await oobToB;
  assert.equal(oobB.publicKey, pair.a.publicKey);
  assert.equal(oobB.data, Uint8Array.of(1, 2, 3));
  const oobToA = pair.a.waitFor('oob');
  pair.b.sendOob(pair.a.publicKey, Uint8Array.of(9));
  assert.equal((await oobToA).publicKey, pair.b.publicKey);
}

/** The close code a WebSocket ends with; rejects if it is still open after ms. */
function closeCode(ws: WebSocket, ms = 3000): Promise<number> {
  return new Promise((resolve, reject) => {
    if (ws.readyState === WebSocket.CLOSED) return reject(new Error('already closed'));
    const timer = setTimeout(() => reject(new Error(`WebSocket still open after ${ms} ms`)), ms);
    ws.once('close', (code: number) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

/** One HTTP request to the WebSocket port: status, headers, body. */
function httpRequest(port: number, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', headers, agent: false, timeout: 3000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (s: string) => (body += s));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('timeout', () => req.destroy(new Error('no HTTP answer within 3 s')));
    req.on('error', reject);
    req.end();
  });
}

test('a WebSocket client (connectWebSocket) and a TCP client link and exchange data and OOB both ways', async () => {
  const r = await testRelay({ wsPorts: [0] });
  try {
    assert.is(r.running.wsPorts.length, 1);
    assert.ok(r.wsPort! > 0 && r.wsPort !== r.port);
    const transport = await connectWebSocket(r.wsUrl!, WebSocket);
    const ws = new RelayClient({ transport, serverPublicKey: r.publicKey, handshakeTimeoutMs: 3000, pingTimeoutMs: 3000 });
    try {
      await ws.connect();
      const tcp = await r.connected();
      await exchange(await linkClients(ws, tcp));
      assert.is(r.relay.connectionCount, 2);
    } finally {
      ws.close();
    }
  } finally {
    await r.close();
  }
});

test('two WebSocket clients link; the relay picks the "binary" subprotocol when offered', async () => {
  const r = await testRelay({ wsPorts: [0] });
  try {
    const pair = await linkClients(await r.wsConnected(), await r.wsConnected());
    await exchange(pair, 2000);
    const offered = await r.rawWs({ protocols: ['base64', 'binary'] });
    assert.is(offered.protocol, 'binary');
    const none = await r.rawWs();
    assert.is(none.protocol, '');
  } finally {
    await r.close();
  }
});

test('frames split across 1-byte messages (the hello too) work both ways', async () => {
  const r = await testRelay({ wsPorts: [0] });
  try {
    const ws = await r.wsConnected({ chunkSize: 1 });
    const tcp = await r.connected();
    await exchange(await linkClients(ws, tcp), 300);
    await ws.ping();
  } finally {
    await r.close();
  }
});

test('frames joined in one message, and frames straddling message boundaries, work', async () => {
  const r = await testRelay({ wsPorts: [0] });
  try {
    const tcp = await r.connected();
    const ws = await r.wsClient();
    // The hello and the first frame cannot share a message: the frame's key needs the relay's reply.
    await ws.handshake();
    const joined = (frames: Uint8Array[]) => {
      const all = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
      let at = 0;
      for (const f of frames) (all.set(f, at), (at += f.length));
      return all;
    };
    // A ping, a routing request and an OOB packet in a single message: each is answered.
    const pong = ws.waitFor('pong');
    const routed = ws.waitFor('routingResponse');
    const oob = tcp.waitFor('oob');
    ws.sendRawBytes(
      joined([
        ws.sealFrame(encodePing(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8))),
        ws.sealFrame(encodeRoutingRequest(tcp.publicKey)),
        ws.sealFrame(encodeOobSend(tcp.publicKey, Uint8Array.of(0xaa, 0xbb))),
      ]),
    );
    assert.equal([...(await pong).id], [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.is((await routed).connId, 16);
    assert.equal((await oob).data, Uint8Array.of(0xaa, 0xbb));

    // 40 data frames joined, then cut every 7 bytes and sent as messages of 7 (frames straddle).
    const up = ws.waitFor('connectNotification');
    tcp.routingRequest(ws.publicKey);
    await up;
    const wsId = 16;
    const seen: number[] = [];
    tcp.on('data', (d) => seen.push(d.data[0]!));
    const frames = Array.from({ length: 40 }, (_, i) => ws.sealFrame(Uint8Array.of(wsId, i, ...new Uint8Array(50 + i))));
    const stream = joined(frames);
    for (let at = 0; at < stream.length; at += 7) ws.sendRawBytes(stream.slice(at, at + 7));
    for (let i = 0; i < 100 && seen.length < 40; i++) await delay(20);
    assert.equal(seen, Array.from({ length: 40 }, (_, i) => i));

    // A message of exactly the largest size allowed, full of frames, is accepted; it ends with
    // the first bytes of one more frame, completed by the next message. (Every frame sealed is
    // sent: sealing takes a nonce.)
    const pingFrameSize = 2 + 16 + 9;
    let count = Math.floor(WS_MAX_MESSAGE_BYTES / pingFrameSize);
    if (count * pingFrameSize === WS_MAX_MESSAGE_BYTES) count--;
    const pad = WS_MAX_MESSAGE_BYTES - count * pingFrameSize;
    const many = Array.from({ length: count }, (_, i) => ws.sealFrame(encodePing(Uint8Array.of(9, 9, 9, 9, 9, 9, i >> 8, (i & 0xff) | 1))));
    assert.ok(many.every((f) => f.length === pingFrameSize));
    const next = ws.sealFrame(encodePing(Uint8Array.of(7, 7, 7, 7, 7, 7, 7, 7)));
    const lastPong = ws.waitFor('pong', (p) => p.id[6] === (count - 1) >> 8 && p.id[7] === (((count - 1) & 0xff) | 1));
    const tail = ws.waitFor('pong', (p) => p.id[0] === 7);
    const big = joined([...many, next.subarray(0, pad)]);
    assert.is(big.length, WS_MAX_MESSAGE_BYTES);
    ws.sendRawBytes(big);
    ws.sendRawBytes(next.subarray(pad));
    await Promise.all([lastPong, tail]);
  } finally {
    await r.close();
  }
});

test('a text message closes that WebSocket (1003) and nothing else', async () => {
  const r = await testRelay({ wsPorts: [0] });
  try {
    const tcpPair = await r.linkedPair();
    const mixed = await linkClients(await r.wsConnected(), await r.connected());
    const victim = await r.wsConnected();
    const code = closeCode(victim.ws);
    const clientClosed = victim.waitFor('close');
    victim.ws.send('hello', { binary: false });
    assert.is(await code, 1003);
    assert.ok((await clientClosed).error, 'the client sees a close with an error');
    await pairStillWorks(tcpPair);
    await pairStillWorks(mixed);
    await exchange(mixed);
    assert.is(r.relay.connectionCount, 4);
  } finally {
    await r.close();
  }
});

test('an oversize message closes that WebSocket (1009) and nothing else; a linked peer is told', async () => {
  const r = await testRelay({ wsPorts: [0] });
  try {
    const bystanders = await linkClients(await r.wsConnected(), await r.connected());
    const victim = await r.wsConnected();
    const peer = await r.connected();
    const pair = await linkClients(victim, peer);
    const told = peer.waitFor('disconnectNotification', undefined, 1000);
    const code = closeCode(victim.ws);
    victim.ws.send(new Uint8Array(WS_MAX_MESSAGE_BYTES + 1), { binary: true });
    assert.is(await code, 1009);
    assert.is((await told).connId, pair.bId);
    await pairStillWorks(bystanders);
    await exchange(bystanders);
  } finally {
    await r.close();
  }
});

test('a message in too many fragments closes that WebSocket (1008) and nothing else; fewer are fine', async () => {
  const r = await testRelay({ wsPorts: [0] });
  try {
    const bystanders = await linkClients(await r.wsConnected(), await r.connected());
    // A confirmed client's ping, sent as one message in WS_MAX_FRAGMENTS pieces, is answered.
    const fine = await r.wsConnected();
    const pingId = Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 7);
    const pong = fine.waitFor('pong', undefined, 2000);
    const ping = fine.sealFrame(encodePing(pingId));
    const piece = Math.ceil(ping.length / WS_MAX_FRAGMENTS);
    for (let at = 0; at < ping.length; at += piece) fine.ws.send(ping.subarray(at, at + piece), { binary: true, fin: at + piece >= ping.length });
    assert.equal((await pong).id, pingId);
    // One more fragment than that, never finished: closed at once, not held until a timeout.
    const victim = await r.wsConnected();
    const code = closeCode(victim.ws, 2000);
    for (let i = 0; i <= WS_MAX_FRAGMENTS; i++) victim.ws.send(Uint8Array.of(0), { binary: true, fin: false });
    assert.is(await code, 1008);
    await pairStillWorks(bystanders);
  } finally {
    await r.close();
  }
});

test('plain HTTP gets 426, a bad upgrade gets 400; both are closed and nothing else is affected', async () => {
  const r = await testRelay({ wsPorts: [0] });
  try {
    const pair = await linkClients(await r.wsConnected(), await r.connected());
    const plain = await httpRequest(r.wsPort!);
    assert.is(plain.status, 426);
    assert.is(String(plain.headers['upgrade']).toLowerCase(), 'websocket');
    assert.match(plain.body, /WebSocket/);
    const noKey = await httpRequest(r.wsPort!, { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13' });
    assert.is(noKey.status, 400);
    const wrongUpgrade = await httpRequest(r.wsPort!, { Connection: 'Upgrade', Upgrade: 'h2c' });
    assert.is(wrongUpgrade.status, 400);
    assert.is(r.relay.stats.accepted, 2, 'no HTTP request became a relay connection');
    await exchange(pair);
    const after = await r.wsConnected();
    await after.ping();
  } finally {
    await r.close();
  }
});

test('the per-address cap counts WebSocket and TCP connections together', async () => {
  const r = await testRelay({ wsPorts: [0], maxPerIp: 2 });
  try {
    await r.connected();
    const ws = await r.wsConnected();
    const thirdWs = await r.rawWs();
    assert.is(await closeCode(thirdWs), 1006, 'refused: terminated without a close frame');
    const thirdTcp = await r.client();
    await thirdTcp.handshake().catch(() => undefined);
    await thirdTcp.waitFor('close');
    assert.is(r.relay.stats.refusedPerIp, 2);
    // Another loopback address is another host, over WebSocket too.
    const other = await r.wsConnected({ localAddress: '127.0.0.2' });
    await other.ping();
    const gone = ws.waitFor('close');
    ws.close();
    await gone;
    await delay(50);
    await (await r.connected()).ping();
  } finally {
    await r.close();
  }
});

test('the per-address cap holds before the upgrade too: idle HTTP-stage sockets cannot keep others out', async () => {
  const r = await testRelay({ wsPorts: [0], maxPerIp: 2 });
  const sockets: Socket[] = [];
  const open = (localAddress: string) =>
    new Promise<Socket>((resolve, reject) => {
      const s = createConnection({ host: '127.0.0.1', port: r.wsPort!, localAddress }, () => resolve(s));
      s.once('error', reject);
      sockets.push(s);
    });
  try {
    const idle = [await open('127.0.0.1'), await open('127.0.0.1')]; // no request: the HTTP stage
    const third = await open('127.0.0.1');
    await closedWithin(third);
    assert.is(r.relay.stats.refusedPerIp, 1);
    // Another address is not affected, and a place freed is a place again.
    await (await r.wsConnected({ localAddress: '127.0.0.2' })).ping();
    idle[0]!.destroy();
    // The relay hears of the close a moment later: retry until the place is free, within a second.
    let again;
    for (let i = 0; i < 40 && !again; i++) {
      again = await r.wsConnected().catch(() => delay(25).then(() => undefined));
    }
    assert.ok(again, 'admitted once a place was freed');
    await again.ping();
  } finally {
    for (const s of sockets) s.destroy();
    await r.close();
  }
});

test('the connection cap counts WebSocket connections', async () => {
  const r = await testRelay({ wsPorts: [0], maxConnections: 2 });
  try {
    await r.connected();
    await r.wsConnected();
    const refused = await r.rawWs();
    await closeCode(refused);
    assert.is(r.relay.stats.refusedFull, 1);
  } finally {
    await r.close();
  }
});

test('the handshake timeout applies to WebSocket connections (manual clock)', async () => {
  const r = await testRelay({ wsPorts: [0], handshakeTimeoutMs: 5000 });
  try {
    const silent = await r.rawWs();
    const handshaken = await r.wsClient();
    await handshaken.handshake(); // but never sends a frame
    const confirmed = await r.wsConnected();
    r.advance(4000);
    await delay(100);
    assert.is(silent.readyState, WebSocket.OPEN, 'not before the timeout');
    assert.not.ok(handshaken.closed);
    const code = closeCode(silent);
    const closed = handshaken.waitFor('close');
    r.advance(2000);
    await code;
    await closed;
    assert.not.ok(confirmed.closed, 'a confirmed connection stays');
    await confirmed.ping();
  } finally {
    await r.close();
  }
});

test('a WebSocket client that closes (cleanly or abruptly) is noticed at once: its linked TCP peer is told', async () => {
  const r = await testRelay({ wsPorts: [0] });
  try {
    for (const how of ['close', 'terminate'] as const) {
      const ws = await r.wsConnected();
      const tcp = await r.connected();
      const pair = await linkClients(tcp, ws);
      const started = Date.now();
      const told = tcp.waitFor('disconnectNotification', undefined, 1000);
      if (how === 'close') ws.close();
      else ws.ws.terminate();
      assert.is((await told).connId, pair.aId, how);
      assert.ok(Date.now() - started < 1000, `${how}: told in ${Date.now() - started} ms`);
      await delay(20);
      assert.is(r.relay.slotOf(ws.publicKey), -1, `${how}: the relay forgot it`);
    }
  } finally {
    await r.close();
  }
});

test('a WebSocket client that stops reading: data to it is dropped, it is not closed, and it recovers', async () => {
  const r = await testRelay({ wsPorts: [0], dropAboveBytes: 32 * 1024, closeAboveBytes: 1024 * 1024 });
  try {
    const tcp = await r.connected();
    const ws = await r.wsConnected();
    const { aId } = await linkClients(tcp, ws);
    ws.ws.pause();
    const payload = new Uint8Array(1000);
    for (let i = 0; i < 20_000 && r.relay.stats.dropped < 500; i++) {
      tcp.sendData(aId, payload);
      if (i % 200 === 199) await delay(1);
    }
    await tcp.ping();
    assert.ok(r.relay.stats.dropped >= 500, `dropped ${r.relay.stats.dropped}`);
    assert.not.ok(ws.closed);
    ws.ws.resume();
    await delay(300); // what was queued before the drops drains first
    const fresh = ws.waitFor('data', (d) => d.data[0] === 0xee, 5000);
    tcp.sendData(aId, Uint8Array.of(0xee));
    await fresh;
  } finally {
    await r.close();
  }
});

test('closing the relay closes its WebSocket connections and port', async () => {
  const r = await testRelay({ wsPorts: [0, 0] });
  assert.is(r.running.wsPorts.length, 2);
  assert.is.not(r.running.wsPorts[0], r.running.wsPorts[1]);
  const ws = await r.wsConnected();
  const closed = ws.waitFor('close');
  await r.close();
  await closed;
  try {
    await connectWebSocket(r.wsUrl!, WebSocket, { timeoutMs: 2000 });
    assert.unreachable('connected after close');
  } catch (error) {
    assert.match((error as Error).message, /closed before it opened|ECONNREFUSED/);
  }
});

test('a WebSocket port in use fails startRelay with EADDRINUSE tagged as WebSocket, and leaves nothing bound', async () => {
  const first = await testRelay({ wsPorts: [0] });
  try {
    const busy = first.wsPort!;
    try {
      await testRelay({ wsPorts: [busy] });
      assert.unreachable('bound a busy port');
    } catch (error) {
      const e = error as NodeJS.ErrnoException & { listener?: string; port?: number };
      assert.is(e.code, 'EADDRINUSE');
      assert.is(e.listener, 'WebSocket');
      assert.is(e.port, busy);
    }
    await (await first.wsConnected()).ping();
  } finally {
    await first.close();
  }
});

test('connectWebSocket: chunks are held until onData, close is clean, writes after close are ignored', async () => {
  const r = await testRelay({ wsPorts: [0] });
  try {
    const transport = await connectWebSocket(r.wsUrl!, WebSocket);
    // A correct hello, written by hand: the relay answers 96 bytes before anyone reads them.
    await ready();
    transport.write(createHello(generateKeyPair(), r.publicKey).hello);
    await delay(100);
    const got: number[] = [];
    transport.onData((bytes) => {
      assert.ok(bytes instanceof Uint8Array);
      got.push(...bytes);
    });
    assert.is(got.length, 96, 'the reply, held before onData');
    const closed = new Promise<Error | undefined>((resolve) => transport.onClose(resolve));
    transport.close();
    assert.is(await closed, undefined);
    transport.write(Uint8Array.of(1));
    transport.close();
  } finally {
    await r.close();
  }
});

test('connectWebSocket rejects when nothing listens, and needs a constructor where there is no global WebSocket', async () => {
  const r = await testRelay({ wsPorts: [0] });
  const url = r.wsUrl!;
  await r.close();
  try {
    await connectWebSocket(url, WebSocket, { timeoutMs: 2000 });
    assert.unreachable('connected to a closed port');
  } catch (error) {
    assert.instance(error, Error);
  }
  if (!('WebSocket' in globalThis)) {
    try {
      await connectWebSocket(url);
      assert.unreachable('no constructor');
    } catch (error) {
      assert.match((error as Error).message, /pass a WebSocket constructor/);
    }
  }
});

test('src/client/ws.ts imports no Node module (a browser bundle uses it as it is)', async () => {
  const text = await readFile(new URL('../src/client/ws.ts', import.meta.url), 'utf8');
  const imports = [...text.matchAll(/^import .* from '([^']+)';$/gm)].map((m) => m[1]);
  assert.equal(imports, ['./held-stream.ts', './transport.ts']);
  const base = await readFile(new URL('../src/client/held-stream.ts', import.meta.url), 'utf8');
  assert.equal([...base.matchAll(/^import /gm)], [], 'held-stream.ts imports nothing');
});

test.run();
