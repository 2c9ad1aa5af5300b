// A Prometheus endpoint for operators (--metrics ADDR:PORT). prom-client renders the text format
// and adds the process's own metrics (CPU, memory, event-loop lag); the relay's figures are read
// from its counters at scrape time, so metrics cost nothing on the relay path.

import { createServer, type Server } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { RunningRelay } from '../relay/server.ts';
import { PACKET_KIND_NAMES } from '../relay/stats.ts';

export interface MetricsEndpoint {
  readonly port: number;
  close(): Promise<void>;
}

/** A counter whose value is copied from a running total when Prometheus scrapes. */
function mirroredCounter(registry: Registry, name: string, help: string, read: () => number): void {
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

export function relayRegistry(running: RunningRelay): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'toxrelay_process_' });
  const { relay } = running;
  const stats = relay.stats;

  new Gauge({
    name: 'toxrelay_connections',
    help: 'Client connections held, by state (handshaking = not yet confirmed).',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const c = relay.census();
      this.set({ state: 'confirmed' }, c.confirmed);
      this.set({ state: 'handshaking' }, c.open - c.confirmed);
    },
  });
  new Gauge({
    name: 'toxrelay_links_online',
    help: 'Linked client pairs (both asked for each other and both are connected).',
    registers: [registry],
    collect() {
      this.set(relay.census().linksOnline);
    },
  });
  new Gauge({
    name: 'toxrelay_link_chunks',
    help: 'Link-table chunks in use (8 link slots each).',
    registers: [registry],
    collect() {
      this.set(relay.census().linkChunks);
    },
  });
  new Gauge({
    name: 'toxrelay_core_memory_bytes',
    help: 'Size of the WebAssembly core\'s linear memory.',
    registers: [registry],
    collect() {
      this.set(relay.census().coreMemoryBytes);
    },
  });
  mirroredCounter(registry, 'toxrelay_accepted_total', 'Connections accepted.', () => stats.accepted);
  mirroredCounter(registry, 'toxrelay_refused_full_total', 'Connections refused: --max-connections reached.', () => stats.refusedFull);
  mirroredCounter(registry, 'toxrelay_refused_per_ip_total', 'Connections refused: --max-per-ip reached.', () => stats.refusedPerIp);
  mirroredCounter(registry, 'toxrelay_handshakes_total', 'Handshakes completed.', () => stats.handshakes);
  mirroredCounter(registry, 'toxrelay_handshake_failures_total', 'Handshakes that failed (wrong key, garbage, low-order key).', () => stats.handshakesFailed);
  mirroredCounter(registry, 'toxrelay_frames_received_total', 'Encrypted frames received and decrypted.', () => stats.framesIn);
  mirroredCounter(registry, 'toxrelay_frames_sent_total', 'Encrypted frames sent.', () => stats.framesOut);
  new Counter({
    name: 'toxrelay_dropped_total',
    help: 'Packets dropped, by reason: backlog = a relayed packet whose destination was backed up (§6).',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ reason: 'backlog' }, stats.dropped);
    },
  });
  for (const [name, help, counts] of [
    ['toxrelay_packets_total', 'Packets, by type and direction (in = from clients, out = to clients).', [stats.packetsIn, stats.packetsOut]],
    ['toxrelay_bytes_total', 'Wire bytes (frames with their length prefix), by packet type and direction.', [stats.bytesIn, stats.bytesOut]],
  ] as const) {
    new Counter({
      name,
      help,
      labelNames: ['type', 'direction'],
      registers: [registry],
      collect() {
        this.reset();
        PACKET_KIND_NAMES.forEach((type, kind) => {
          if (counts[0][kind]) this.inc({ type, direction: 'in' }, counts[0][kind]!);
          if (counts[1][kind]) this.inc({ type, direction: 'out' }, counts[1][kind]!);
        });
      },
    });
  }

  new Counter({
    name: 'toxrelay_closes_total',
    help: 'Connections closed, by reason.',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [reason, count] of Object.entries(stats.closes)) this.inc({ reason }, count);
    },
  });

  const udp = running.udpStats;
  if (udp) {
    new Counter({
      name: 'toxrelay_udp_packets_total',
      help: 'UDP side: onion and forwarding packets sent and replies delivered, requests to a refused destination (loopback, unspecified, multicast, broadcast), and datagrams dropped.',
      labelNames: ['kind'],
      registers: [registry],
      collect() {
        this.reset();
        this.inc({ kind: 'onion_sent' }, udp.onionSent);
        this.inc({ kind: 'onion_unroutable' }, udp.onionUnroutable);
        this.inc({ kind: 'onion_replies' }, udp.onionReplies);
        this.inc({ kind: 'forward_sent' }, udp.forwardSent);
        this.inc({ kind: 'forward_unroutable' }, udp.forwardUnroutable);
        this.inc({ kind: 'forward_replies' }, udp.forwardReplies);
        this.inc({ kind: 'refused_destination' }, udp.refusedDestinations);
        this.inc({ kind: 'dropped' }, udp.dropped);
      },
    });
  }
  return registry;
}

/** Serves GET /metrics on host:port; anything else is 404. */
export function startMetrics(running: RunningRelay, host: string, port: number): Promise<MetricsEndpoint> {
  const registry = relayRegistry(running);
  const server: Server = createServer((request, response) => {
    if (request.method !== 'GET' || (request.url ?? '').split('?')[0] !== '/metrics') {
      response.writeHead(404).end('not found\n');
      return;
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (error: unknown) => response.writeHead(500).end(`${String(error)}\n`),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve({
        port: typeof address === 'object' && address ? address.port : port,
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
}
