// The Prometheus endpoint reports what the relay did, read from its counters at scrape time.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startMetrics } from '../src/metrics/prometheus.ts';
import { delay, testRelay } from './support/relay.ts';

function value(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  if (!line) throw new Error(`no ${series} in:\n${text}`);
  return Number(line.slice(series.length + 1));
}

test('connections, handshakes, frames, closes and process metrics', async () => {
  const r = await testRelay({ udpPort: 0 });
  const metrics = await startMetrics(r.running, '127.0.0.1', 0);
  try {
    const scrape = async () => {
      const response = await fetch(`http://127.0.0.1:${metrics.port}/metrics`);
      assert.is(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /text\/plain/);
      return response.text();
    };
    const { a, aId, b } = await r.linkedPair();
    const got = b.waitFor('data');
    a.sendData(aId, new Uint8Array([1, 2, 3]));
    await got;
    let text = await scrape();
    assert.is(value(text, 'toxrelay_connections{state="confirmed"}'), 2);
    assert.is(value(text, 'toxrelay_handshakes_total'), 2);
    assert.ok(value(text, 'toxrelay_frames_received_total') >= 5);
    assert.ok(value(text, 'toxrelay_frames_sent_total') >= 5);
    assert.ok(value(text, 'toxrelay_link_chunks') >= 2);
    assert.is(value(text, 'toxrelay_links_online'), 1);
    assert.is(value(text, 'toxrelay_packets_total{type="data",direction="in"}'), 1);
    assert.is(value(text, 'toxrelay_packets_total{type="data",direction="out"}'), 1);
    assert.is(value(text, 'toxrelay_packets_total{type="routing_request",direction="in"}'), 2);
    assert.is(value(text, 'toxrelay_packets_total{type="connect_notification",direction="out"}'), 2);
    assert.is(value(text, 'toxrelay_bytes_total{type="data",direction="in"}'), 2 + 16 + 4);
    assert.is(value(text, 'toxrelay_dropped_total{reason="backlog"}'), 0);
    assert.match(text, /toxrelay_process_nodejs_eventloop_lag_seconds/);
    assert.match(text, /toxrelay_udp_packets_total\{kind="dropped"\} 0/);

    const closed = b.waitFor('disconnectNotification');
    a.close();
    await closed;
    await delay(20);
    text = await scrape();
    assert.is(value(text, 'toxrelay_connections{state="confirmed"}'), 1);
    assert.is(value(text, 'toxrelay_closes_total{reason="socket-closed"}'), 1);
    assert.is(value(text, 'toxrelay_links_online'), 0);

    const other = await fetch(`http://127.0.0.1:${metrics.port}/`);
    assert.is(other.status, 404);
  } finally {
    await metrics.close();
    await r.close();
  }
});

test.run();
