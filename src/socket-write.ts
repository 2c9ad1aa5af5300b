// Whether a Node socket still needs the bytes it was just given: the one fact that lets the relay
// and the client reuse their gathering buffers instead of allocating one per write.

import type { Socket } from 'node:net';

/**
 * Writes `bytes`, which the caller wants to reuse, and returns true when the socket no longer
 * needs them. Node calls a write that libuv completed at once back before write() returns,
 * emptying the queue: then the kernel has the bytes. Anything still queued (the socket still
 * connecting, a partial write, a full kernel buffer) holds `bytes`, and they must not change.
 */
export function writeTaken(socket: Socket, bytes: Uint8Array): boolean {
  socket.write(bytes);
  return socket.writableLength === 0;
}
