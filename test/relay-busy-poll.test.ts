// --busy-poll: after input the event loop keeps polling instead of sleeping, for the window and
// no longer. BusyPoll counts the turns it polled; for a whole relay, event-loop utilisation tells
// polling apart (a loop asleep in epoll is idle, one spinning through setImmediate busy throughout).
// uvu runs every test file in one process, so only 'busy' is asserted from utilisation: work left
// over from other files could make a quiet window look busy, never a busy one quiet.
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

test('a poke keeps the loop polling for the window; stop() ends it', async () => {
  const poll = new BusyPoll(200_000); // 200 ms, so that a slow machine still measures inside it
  assert.not.ok(poll.active);
  poll.poke();
  assert.ok(poll.active);
  const before = poll.turns;
  await delay(50);
  // Polling turns the loop again and again (thousands of times in 50 ms); a sleeping loop would not turn at all.
  assert.ok(poll.turns - before > 100, `turns while polling: ${poll.turns - before}`);
  poll.stop();
  await nextTurn();
  await nextTurn();
  assert.not.ok(poll.active, 'stop() ends the window');
  const stopped = poll.turns;
  await delay(50);
  assert.is(poll.turns, stopped, 'no more turns once stopped');
});

test('the window runs out by itself, and a window of 0 never polls', async () => {
  const poll = new BusyPoll(5_000);
  poll.poke();
  await delay(100);
  assert.not.ok(poll.active, 'a 5 ms window is over 100 ms later');
  const ended = poll.turns;
  assert.ok(ended > 0);
  await delay(50);
  assert.is(poll.turns, ended);
  const off = new BusyPoll(0);
  off.poke();
  assert.not.ok(off.active);
  await nextTurn();
  assert.is(off.turns, 0);
});

const CASES = [
  { transport: 'tcp', busyPollUs: 0 },
  { transport: 'tcp', busyPollUs: 1_000_000 }, // a second, so that a stalled test process still measures inside it
  { transport: 'ws', busyPollUs: 1_000_000 },
] as const;

for (const { transport, busyPollUs } of CASES) {
  test(`${transport}: a relay with busyPollUs ${busyPollUs} relays data${busyPollUs ? ' and keeps its loop polling after input' : ''}`, async () => {
    const r = await testRelay({ busyPollUs, ...(transport === 'ws' ? { wsPorts: [0] } : {}) });
    try {
      const open = () => (transport === 'ws' ? r.wsConnected() : r.connected());
      const { a, b, aId } = await linkClients(await open(), await open());
      await delay(busyPollUs / 1000 + 50); // any window opened by the set-up is over
      const got = b.waitFor('data');
      a.sendData(aId, new Uint8Array([1, 2, 3]));
      assert.equal((await got).data, new Uint8Array([1, 2, 3]));
      if (busyPollUs) {
        // Other work in this process only adds to the utilisation, so a high one is polling's doing.
        const utilisation = await utilisationOver(50);
        assert.ok(utilisation > 0.8, `utilisation after a relayed packet: ${utilisation}`);
      }
    } finally {
      await r.close();
    }
  });
}

test.run();
