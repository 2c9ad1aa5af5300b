// TCP listeners: one per configured port, dual-stack when no bind address is given (like
// tox-bootstrapd with IPv6 enabled), each feeding accepted sockets to the relay.

import { createServer, type Server, type Socket } from 'node:net';

const LISTEN_BACKLOG = 256; // c-toxcore's backlog

export async function listenAll(ports: number[], host: string | undefined, onSocket: (socket: Socket) => void): Promise<Server[]> {
  const servers: Server[] = [];
  try {
    for (const port of ports) servers.push(await listenOne(port, host, onSocket));
  } catch (error) {
    await Promise.all(servers.map(closeServer));
    throw error;
  }
  return servers;
}

function listenOne(port: number, host: string | undefined, onSocket: (socket: Socket) => void): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer({ noDelay: true }, onSocket);
    const fail = (error: Error) => reject(error);
    server.once('error', fail);
    server.listen({ port, host, backlog: LISTEN_BACKLOG, ipv6Only: false }, () => {
      server.off('error', fail);
      resolve(server);
    });
  });
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

export function boundPort(server: Server): number {
  const address = server.address();
  return typeof address === 'object' && address ? address.port : 0;
}
