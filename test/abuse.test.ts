// The abuse runner (src/abuse): argument checks, and a tiny run of three scenarios against an
// in-process relay on a real clock. Asserts structure and invariants, never timings.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseArgs } from '../src/abuse/main.ts';
import { formatTable } from '../src/abuse/format.ts';
import { QUICK, runScenario, type ScenarioSizes } from '../src/abuse/scenarios.ts';
import { ready } from '../src/client/sodium.ts';
import { systemClock } from '../src/clock.ts';
import { timed as timedWithin } from './support/process.ts';
import { testRelay } from './support/relay.ts';

const KEY = 'ab'.repeat(32);
const TINY: ScenarioSizes = { ...QUICK, sameKeyRounds: 2, garbageConnections: 6, pingFloodMaxS: 10 };

const timed = (body: () => Promise<void>, ms = 40_000) => timedWithin(body, ms);

test('args: HOST PORT KEY PID, scenarios, --quick; only loopback targets', () => {
  const a = parseArgs(['127.0.0.1', '33445', KEY, '123', '--scenario', 'churn', '--quick', '--udp-port', '5']);
  assert.equal(a.target, { host: '127.0.0.1', port: 33445, keyHex: KEY, pid: 123, udpPort: 5 });
  assert.equal(a.scenarios, ['churn']);
  assert.ok(a.quick);
  assert.throws(() => parseArgs(['10.0.0.1', '33445', KEY, '1']), /loopback/);
  assert.throws(() => parseArgs(['127.0.0.1', '33445', KEY, '1', '--scenario', 'nope']), /unknown scenario/);
  assert.throws(() => parseArgs([]), /HOST PORT KEY PID/);
});

test(
  'runner: same-key, ping-flood and amplification against an in-process relay',
  timed(async () => {
    await ready();
    const relay = await testRelay({ clock: systemClock, autoTimers: true, maxPerIp: 100_000 });
    try {
      const target = { host: '127.0.0.1', port: relay.port, keyHex: Buffer.from(relay.publicKey).toString('hex'), pid: process.pid };
      const sameKey = await runScenario('same-key', target, TINY);
      assert.ok(sameKey.ok, sameKey.verdict);
      assert.is(sameKey.counts['oldClosedByRelay'], 2);
      assert.is(sameKey.counts['peerDisconnectNotifications'], 2);
      assert.ok(sameKey.rtt && !sameKey.rtt.closed, 'the legit pair stays up');

      const flood = await runScenario('ping-flood', target, TINY, 1);
      assert.is(flood.counts['closedByRelay'], true, 'the ping flooder was closed');
      assert.ok(flood.ok);

      const amp = await runScenario('amplification', target, TINY, 2);
      assert.is(amp.counts['tcpBytesBack'], 0);
      assert.is(amp.counts['tcpConnections'], 6);
      assert.ok(amp.ok);

      for (const r of [sameKey, flood, amp]) {
        assert.type(r.server.beforeKiB, 'number');
        assert.ok((r.server.peakKiB ?? 0) >= (r.server.beforeKiB ?? 0));
      }
      const table = formatTable({ toxrelay: [sameKey, flood, amp] });
      assert.match(table, /\| same-key/);
      assert.match(table, /\| ping-flood/);
    } finally {
      await relay.close();
    }
  }),
);

test.run();
