// connectTcp over loopback: bytes both ways, chunks held until a receiver is set, close semantics.
import { createServer, type Server, type Socket } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connectSocket, connectTcp, tcpTransport } from '../src/client/tcp.ts';
import { timed } from './support/process.ts';

async function listen(onSocket: (socket: Socket) => void): Promise<{ server: Server; port: number }> {
  const server = createServer(onSocket);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port };
}

test('bytes written before onData() are held, then delivered in order; close reaches the peer', async () => {
  let peer!: Socket;
  const peerGot: Buffer[] = [];
  const { server, port } = await listen((socket) => {
    peer = socket;
    socket.on('data', (b) => peerGot.push(b));
    socket.write(Uint8Array.of(1, 2, 3));
  });
  const transport = await connectTcp('127.0.0.1', port);
  await new Promise((resolve) => setTimeout(resolve, 50)); // the peer's bytes arrive before a receiver exists
  const got: number[] = [];
  transport.onData((bytes) => {
    assert.ok(!Buffer.isBuffer(bytes), 'chunks are plain Uint8Arrays');
    got.push(...bytes);
  });
  assert.equal(got, [1, 2, 3]);
  transport.write(Uint8Array.of(9, 8));
  const peerEnded = new Promise<void>((resolve) => peer.on('end', () => resolve()));
  let closes = 0;
  const closed = new Promise<Error | undefined>((resolve) =>
    transport.onClose((error) => {
      closes++;
      resolve(error);
    }),
  );
  transport.close();
  await peerEnded;
  assert.equal([...Buffer.concat(peerGot)], [9, 8], 'written bytes are flushed before the FIN');
  assert.is(await closed, undefined);
  transport.write(Uint8Array.of(7)); // ignored after close
  transport.close();
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.is(closes, 1);
  server.close();
});

/** A transport over a socket whose write() calls are recorded. */
async function recordedTransport() {
  const peerGot: Buffer[] = [];
  const { server, port } = await listen((socket) => socket.on('data', (b) => peerGot.push(b)));
  const socket = await connectSocket('127.0.0.1', port);
  const writes: number[][] = [];
  const write = socket.write.bind(socket) as (chunk: Uint8Array) => boolean;
  (socket as unknown as { write: (chunk: Uint8Array) => boolean }).write = (chunk) => {
    writes.push([...chunk]);
    return write(chunk);
  };
  return { transport: tcpTransport(socket), writes, peerGot, server };
}

const endOfTurn = () => new Promise((resolve) => setImmediate(resolve));

test('the first write of a turn goes out at once; the rest of the turn in one write at its end', async () => {
  const { transport, writes, server } = await recordedTransport();
  const reused = Uint8Array.of(1, 1);
  transport.write(reused);
  reused.fill(9); // the transport copied it (copiesWrites)
  transport.write(Uint8Array.of(2));
  transport.write(Uint8Array.of(3, 3));
  assert.equal(writes, [[1, 1]], 'only the first write so far');
  await endOfTurn();
  assert.equal(writes, [[1, 1], [2, 3, 3]]);
  transport.write(Uint8Array.of(4));
  assert.equal(writes.length, 3, 'a new turn starts with an immediate write again');
  transport.close();
  server.close();
});

test('cork/uncork: the corked writes leave in one write at uncork; batch() does it for a client', async () => {
  const { transport, writes, peerGot, server } = await recordedTransport();
  assert.ok(transport.copiesWrites);
  transport.cork!();
  transport.write(Uint8Array.of(1));
  transport.write(Uint8Array.of(2, 2));
  assert.equal(writes, []);
  transport.uncork!();
  assert.equal(writes, [[1, 2, 2]]);
  // A cork does not outlive its turn, with or without writes under it.
  transport.cork!();
  transport.write(Uint8Array.of(3));
  await endOfTurn();
  assert.equal(writes, [[1, 2, 2], [3]]);
  transport.cork!();
  await endOfTurn();
  transport.write(Uint8Array.of(4));
  assert.equal(writes, [[1, 2, 2], [3], [4]], 'the first write of the next turn goes out at once');
  transport.close();
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal([...Buffer.concat(peerGot)], [1, 2, 2, 3, 4], 'the peer got everything, in order');
  server.close();
});

test('gathered writes reuse their buffer only once the kernel took them: a peer that stops reading gets every byte intact', timed(async () => {
  let peer!: Socket;
  const { server, port } = await listen((socket) => {
    peer = socket;
    socket.pause();
  });
  const socket = await connectSocket('127.0.0.1', port);
  const transport = tcpTransport(socket);
  await new Promise((resolve) => setTimeout(resolve, 20));
  // Far more than loopback's kernel buffers hold, in corked bursts with a distinct byte each.
  const BURSTS = 600;
  const PIECE = 1000;
  for (let burst = 0; burst < BURSTS; burst++) {
    transport.cork!();
    for (let k = 0; k < 16; k++) transport.write(new Uint8Array(PIECE).fill((burst * 16 + k) & 0xff));
    transport.uncork!();
    if (burst % 50 === 49) await endOfTurn();
  }
  assert.ok(socket.writableLength > 0, 'the kernel filled up, so some writes are still queued');
  const got: Buffer[] = [];
  let total = 0;
  const all = new Promise<void>((resolve) =>
    peer.on('data', (b) => {
      got.push(b);
      total += b.length;
      if (total === BURSTS * 16 * PIECE) resolve();
    }),
  );
  peer.resume();
  await all;
  const bytes = Buffer.concat(got);
  for (let piece = 0; piece < BURSTS * 16; piece++) {
    const at = piece * PIECE;
    const want = piece & 0xff;
    if (bytes[at] !== want || bytes[at + PIECE - 1] !== want) assert.unreachable(`piece ${piece} was overwritten`);
  }
  transport.close();
  server.close();
}, 30_000));

test('while the socket drains, a small flush queues a copy of its bytes, not the whole gathering buffer', timed(async () => {
  let peer: Socket | undefined;
  const { server, port } = await listen((socket) => {
    peer = socket;
    socket.pause();
  });
  const socket = await connectSocket('127.0.0.1', port);
  const transport = tcpTransport(socket);
  try {
    await new Promise((resolve) => setTimeout(resolve, 20));
    socket.write(Buffer.alloc(16 * 1024 * 1024)); // more than loopback's kernel buffers take
    assert.ok(socket.writableLength > 0, 'the socket is draining');
    for (let i = 0; i < 100; i++) {
      transport.cork!();
      transport.write(new Uint8Array(100).fill(i));
      transport.write(new Uint8Array(100).fill(i));
      transport.uncork!();
    }
    // Memory the queue pins beyond the bytes it holds: each distinct backing buffer counted once.
    const state = (socket as unknown as { writableBuffer: { chunk: Uint8Array }[] }).writableBuffer;
    const queued = state.map((entry) => entry.chunk);
    const pinned = [...new Set(queued.map((chunk) => chunk.buffer))].reduce((sum, b) => sum + b.byteLength, 0);
    const bytes = queued.reduce((sum, chunk) => sum + chunk.byteLength, 0);
    assert.ok(pinned - bytes < 256 * 1024, `the queue pins ${pinned - bytes} bytes beyond the ${bytes} it holds`);
  } finally {
    transport.close();
    socket.destroy();
    peer?.destroy();
    server.close();
  }
}, 30_000));

test('a remote close calls onClose once, even when set afterwards', async () => {
  const { server, port } = await listen((socket) => socket.end());
  const transport = await connectTcp('127.0.0.1', port);
  transport.onData(() => {});
  await new Promise((resolve) => setTimeout(resolve, 50));
  const error = await new Promise<Error | undefined>((resolve) => transport.onClose(resolve));
  assert.is(error, undefined);
  server.close();
});

test('a refused connection rejects', async () => {
  const { server, port } = await listen(() => {});
  await new Promise<void>((resolve) => server.close(() => resolve()));
  try {
    await connectTcp('127.0.0.1', port);
    assert.unreachable('connected to a closed port');
  } catch (error) {
    assert.is((error as NodeJS.ErrnoException).code, 'ECONNREFUSED');
  }
});

test.run();
