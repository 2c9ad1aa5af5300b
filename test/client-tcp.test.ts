// connectTcp over loopback: bytes both ways, chunks held until a receiver is set, close semantics.
import { createServer, type Server, type Socket } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connectTcp } from '../src/client/tcp.ts';

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
