// --busy-poll: after input the event loop keeps polling instead of sleeping, for the window and
// no longer. Event-loop utilisation tells the two apart: a loop asleep in epoll is idle, a loop
// spinning through setImmediate is busy all the time.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { BusyPoll } from '../src/relay/busy-poll.ts';
import { delay, linkClients, testRelay } from './support/relay.ts';

/** Share of the next `ms` the event loop spends busy rather than waiting for I/O. */
async function utilisationOver(ms: number): Promise<number> {
  const start = performance.eventLoopUtilization();
  await delay(ms);
  return performance.eventLoopUtilization(start).utilization;
}

test('a poke keeps the loop polling for the window, then lets it sleep', async () => {
  const poll = new BusyPoll(200_000); // 200 ms, so that a slow machine still measures inside it
  assert.not.ok(poll.active);
  poll.poke();
  assert.ok(poll.active);
  const during = await utilisationOver(50);
  assert.ok(during > 0.8, `utilisation while polling: ${during}`);
  poll.stop();
  await nextTurn();
  await nextTurn();
  assert.not.ok(poll.active, 'stop() ends the window');
  const after = await utilisationOver(50);
  assert.ok(after < 0.5, `utilisation after stop: ${after}`);
});

test('the window runs out by itself, and a window of 0 never polls', async () => {
  const poll = new BusyPoll(5_000);
  poll.poke();
  await delay(100);
  assert.not.ok(poll.active, 'a 5 ms window is over 100 ms later');
  const off = new BusyPoll(0);
  off.poke();
  assert.not.ok(off.active);
});

for (const busyPollUs of [0, 200_000]) {
  test(`a relay with busyPollUs ${busyPollUs} relays data and ${busyPollUs ? 'keeps' : 'does not keep'} its loop polling after input`, async () => {
    const r = await testRelay({ busyPollUs });
    try {
      const { a, b, aId } = await linkClients(await r.connected(), await r.connected());
      await delay(busyPollUs / 1000 + 50); // any window opened by the set-up is over
      const got = b.waitFor('data');
      a.sendData(aId, new Uint8Array([1, 2, 3]));
      assert.equal((await got).data, new Uint8Array([1, 2, 3]));
      const utilisation = await utilisationOver(50);
      if (busyPollUs) assert.ok(utilisation > 0.8, `utilisation after a relayed packet: ${utilisation}`);
      else assert.ok(utilisation < 0.5, `utilisation after a relayed packet: ${utilisation}`);
    } finally {
      await r.close();
    }
  });
}

test.run();
