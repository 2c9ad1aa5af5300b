// The relay as a browser page runs it (src/relay/in-page.ts): the same core and host over
// in-memory streams, with RelayClients from src/client. And proof that it bundles for a browser.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as esbuild from 'esbuild';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { RelayClient, type Transport } from '../src/client/index.ts';
import { ManualClock } from '../src/clock.ts';
import { readCoreWasm } from '../src/core/load.ts';
import { startInPageRelay } from '../src/relay/in-page.ts';
import type { MemoryTransport } from '../src/relay/memory-wire.ts';
import { endOfTurnScheduler } from '../src/relay/turn.ts';

const run = promisify(execFile);
const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));
const wasm = await readCoreWasm();

async function inPage(options: Parameters<typeof startInPageRelay>[0] = {}) {
  const relay = await startInPageRelay({ wasm, autoTimers: false, ...options });
  const clients: RelayClient[] = [];
  const client = (extra: { autoPong?: boolean } = {}) => {
    const c = new RelayClient({ transport: relay.connect(), serverPublicKey: relay.publicKey, handshakeTimeoutMs: 3000, pingTimeoutMs: 3000, ...extra });
    clients.push(c);
    return c;
  };
  const connected = async (extra: { autoPong?: boolean } = {}) => {
    const c = client(extra);
    await c.connect();
    return c;
  };
  const linkedPair = async () => {
    const a = await connected(), b = await connected();
    const aUp = a.waitFor('connectNotification'), bUp = b.waitFor('connectNotification');
    a.routingRequest(b.publicKey);
    b.routingRequest(a.publicKey);
    const [na, nb] = await Promise.all([aUp, bUp]);
    return { a, b, aId: na.connId, bId: nb.connId };
  };
  const close = () => {
    for (const c of clients) c.close();
    relay.close();
  };
  return { relay, clients, client, connected, linkedPair, close };
}

/** Resolves when the transport's stream ends; rejects if it has not within ms. */
function endedWithin(transport: Transport, ms = 2000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`stream still open after ${ms} ms`)), ms);
    transport.onClose(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

test('two clients handshake, link, exchange data and OOB, and ping', async () => {
  const p = await inPage();
  try {
    const { a, b, aId, bId } = await p.linkedPair();
    assert.is(p.relay.relay.slotOf(a.publicKey) >= 0, true);
    const toB = b.waitFor('data');
    a.sendData(aId, new Uint8Array([1, 2, 3]));
    const got = await toB;
    assert.is(got.connId, bId);
    assert.equal(got.data, new Uint8Array([1, 2, 3]));

    const received: Uint8Array[] = [];
    a.on('data', (d) => received.push(d.data));
    for (let i = 0; i < 50; i++) b.sendData(bId, new Uint8Array(1000).fill(i));
    const last = a.waitFor('data', (d) => d.data[0] === 49);
    await last;
    assert.is(received.length, 50, 'every packet, in order');
    received.forEach((d, i) => assert.equal(d, new Uint8Array(1000).fill(i)));

    const oob = b.waitFor('oob');
    a.sendOob(b.publicKey, new Uint8Array([9, 8, 7]));
    const o = await oob;
    assert.equal(o.publicKey, a.publicKey);
    assert.equal(o.data, new Uint8Array([9, 8, 7]));

    assert.equal(Array.from(await a.ping(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]))), [1, 2, 3, 4, 5, 6, 7, 8]);
    const stats = p.relay.relay.stats;
    assert.is(stats.handshakes, 2);
    assert.ok(stats.framesIn > 50 && stats.framesOut > 50);
    assert.is(p.relay.relay.connectionCount, 2);
  } finally {
    p.close();
  }
});

test('a client closing is noticed at once: its peer is told and the relay forgets it', async () => {
  const p = await inPage();
  try {
    const { a, b, aId } = await p.linkedPair();
    const down = b.waitFor('disconnectNotification');
    const closed = a.waitFor('close');
    a.close();
    await closed;
    assert.is((await down).connId, aId);
    assert.is(p.relay.relay.connectionCount, 1);
    assert.is(p.relay.relay.stats.closes['socket-closed'], 1);
    await b.ping();
  } finally {
    p.close();
  }
});

test('bad input closes only that client', async () => {
  const p = await inPage();
  try {
    const pair = await p.linkedPair();
    const bad = await p.connected();
    const gone = bad.waitFor('close');
    bad.sendRawBytes(new Uint8Array([0x08, 0x01, 1, 2, 3, 4])); // a 2049-byte frame: over the limit
    await gone;
    assert.ok(bad.closed);

    const garbage = p.relay.connect();
    const ended = endedWithin(garbage);
    garbage.write(new Uint8Array(128).fill(0x55)); // a hello for no key at all
    await ended;
    assert.is(p.relay.relay.stats.handshakesFailed, 1);

    assert.not.ok(pair.a.closed || pair.b.closed);
    const toB = pair.b.waitFor('data');
    pair.a.sendData(pair.aId, new Uint8Array([0x42]));
    assert.is((await toB).connId, pair.bId);
    await pair.b.ping();
  } finally {
    p.close();
  }
});

test('timers on a ManualClock: pings, and a mute client is closed and its peer told', async () => {
  const clock = new ManualClock(1_000_000);
  const p = await inPage({ clock, autoTimers: false });
  const advance = (ms: number) => {
    clock.advance(ms);
    p.relay.runTimers();
  };
  try {
    const mute = await p.connected({ autoPong: false });
    const peer = await p.connected();
    const up = peer.waitFor('connectNotification');
    mute.routingRequest(peer.publicKey);
    peer.routingRequest(mute.publicKey);
    await up;
    const pinged = mute.waitFor('ping');
    const peerPinged = peer.waitFor('ping');
    advance(30_000);
    await pinged;
    await peerPinged;
    await delay(20); // the peer's automatic pong reaches the relay
    advance(9_000);
    await delay(20);
    assert.not.ok(mute.closed);
    const closed = mute.waitFor('close');
    const down = peer.waitFor('disconnectNotification');
    advance(1_000);
    await closed;
    await down;
    assert.not.ok(peer.closed);
    assert.is(p.relay.relay.stats.closes['ping-timeout'], 1);

    // A stream that never handshakes is closed by the handshake timeout.
    const silent = p.relay.connect();
    const ended = endedWithin(silent);
    advance(10_001);
    await ended;
  } finally {
    p.close();
  }
});

test('a client that does not read: its backlog counts, and relayed packets are dropped (bounded output)', async () => {
  const p = await inPage();
  try {
    const a = await p.connected();
    const stalled = p.relay.connect() as MemoryTransport;
    const b = new RelayClient({ transport: stalled, serverPublicKey: p.relay.publicKey });
    p.clients.push(b);
    await b.connect();
    const aUp = a.waitFor('connectNotification'), bUp = b.waitFor('connectNotification');
    a.routingRequest(b.publicKey);
    b.routingRequest(a.publicKey);
    const aId = (await aUp).connId;
    await bUp;
    const received: number[] = [];
    b.on('data', (d) => received.push(d.data[0]!));

    stalled.pause();
    for (let i = 0; i < 200; i++) a.sendData(aId, new Uint8Array(1000).fill(i));
    await a.ping(); // every packet reached the relay
    await delay(20);
    const stats = p.relay.relay.stats;
    assert.ok(stats.dropped > 0, 'dropped above 64 KiB pending');
    assert.is(received.length, 0, 'nothing taken while paused');
    stalled.resume();
    await delay(20);
    assert.is(received.length + stats.dropped, 200);
    assert.equal(received, received.map((_, i) => i), 'the first packets, in order');
    await b.ping();
    assert.not.ok(b.closed);
  } finally {
    p.close();
  }
});

test('close(): every client ends; connect() afterwards gives a stream that ends at once', async () => {
  const p = await inPage();
  const a = await p.connected();
  const closed = a.waitFor('close');
  p.relay.close();
  await closed;
  assert.is(p.relay.relay.connectionCount, 0);
  await endedWithin(p.relay.connect());
  p.close();
});

test('startInPageRelay needs the wasm bytes; a given key pair is used', async () => {
  try {
    await startInPageRelay();
    assert.unreachable('no wasm');
  } catch (error) {
    assert.match(String(error), /wasm/);
  }
  const { sodium } = await import('../src/client/sodium.ts');
  await sodium.ready;
  const secretKey = new Uint8Array(32).fill(3);
  const keys = { publicKey: sodium.crypto_scalarmult_base(secretKey), secretKey };
  const p = await inPage({ keyPair: keys });
  try {
    assert.equal(p.relay.publicKey, keys.publicKey);
    await p.connected();
  } finally {
    p.close();
  }
});

test('end of turn without setImmediate: MessageChannel, else setTimeout', async () => {
  const posted: (() => void)[] = [];
  class FakeChannel {
    port1 = { onmessage: null as null | (() => void) };
    port2 = { postMessage: () => posted.push(() => this.port1.onmessage?.()) };
  }
  const ran: number[] = [];
  const viaChannel = endOfTurnScheduler({ MessageChannel: FakeChannel as unknown as typeof MessageChannel, setTimeout });
  viaChannel(() => ran.push(1));
  viaChannel(() => ran.push(2));
  assert.equal(ran, [], 'not inside the call');
  for (const deliver of posted) deliver();
  assert.equal(ran, [1, 2]);
  const viaTimeout = endOfTurnScheduler({ setTimeout });
  const done = new Promise<void>((resolve) => viaTimeout(resolve));
  await done;
});

test('src/relay/in-page.ts bundles for the browser (no Node module, directly or not)', async () => {
  const result = await esbuild.build({
    entryPoints: [fileURLToPath(new URL('../src/relay/in-page.ts', import.meta.url))],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    logLevel: 'silent',
  });
  assert.is(result.errors.length, 0);
  const text = result.outputFiles[0]!.text;
  assert.ok(text.includes('startInPageRelay'));
  assert.not.ok(/from ["']node:|require\(["']node:/.test(text), 'no node: import left in the bundle');
});

test('the browser bundle relays with no Buffer and no setImmediate (MessageChannel turns)', async () => {
  // The relay and two clients, bundled as a page would bundle them, run in a fresh Node process
  // whose Buffer and setImmediate were removed first.
  const dir = await mkdtemp(join(tmpdir(), 'toxrelay-in-page-'));
  try {
    const src = (path: string) => JSON.stringify(fileURLToPath(new URL(path, import.meta.url)));
    await esbuild.build({
      stdin: {
        contents: `
          import { startInPageRelay } from ${src('../src/relay/in-page.ts')};
          import { RelayClient } from ${src('../src/client/index.ts')};
          export async function run(wasm) {
            const r = await startInPageRelay({ wasm, autoTimers: false });
            const a = new RelayClient({ transport: r.connect(), serverPublicKey: r.publicKey });
            const b = new RelayClient({ transport: r.connect(), serverPublicKey: r.publicKey });
            await a.connect();
            await b.connect();
            const up = a.waitFor('connectNotification'), upB = b.waitFor('connectNotification');
            a.routingRequest(b.publicKey);
            b.routingRequest(a.publicKey);
            const id = (await up).connId;
            await upB;
            const got = b.waitFor('data');
            a.sendData(id, new Uint8Array(1000).fill(7));
            const d = await got;
            await a.ping();
            r.close();
            return { length: d.data.length, handshakes: r.relay.stats.handshakes };
          }`,
        resolveDir: fileURLToPath(new URL('.', import.meta.url)),
        loader: 'js',
      },
      bundle: true,
      platform: 'browser',
      format: 'esm',
      outfile: join(dir, 'page.mjs'),
      logLevel: 'silent',
    });
    await writeFile(join(dir, 'core.wasm'), wasm);
    const script = `
      const wasm = new Uint8Array(await (await import('node:fs/promises')).readFile(${JSON.stringify(join(dir, 'core.wasm'))}));
      delete globalThis.Buffer;
      delete globalThis.setImmediate;
      const { run } = await import(${JSON.stringify(pathToFileURL(join(dir, 'page.mjs')).href)});
      setTimeout(() => { console.log('timeout'); process.exit(1); }, 5000).unref();
      console.log(JSON.stringify(await run(wasm)));
      process.exit(0);`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script]);
    assert.equal(JSON.parse(stdout.trim()), { length: 1000, handshakes: 2 });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
