// §8 and §9 as far as the core decides them: which onion and forward requests reach the UDP
// side, which are dropped, which kill; and which connection a UDP reply may reach.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CloseReason, CoreModule } from '../src/core/exports.ts';
import { coreHarness } from './support/core-harness.ts';

const both = CoreModule.ONION | CoreModule.FORWARDING;
const onion = (len: number) => [8, ...new Array(len - 1).fill(0x11)];
const forward = (family: number, addressLength: number, dataLength: number) =>
  [10, family, ...new Array(addressLength).fill(127), 0x82, 0x35, ...new Array(dataLength).fill(0x22)];

test('onion requests: ≤ 159 kills, 160..178 and > 1360 are dropped, 179..1360 go to the UDP side', async () => {
  const h = await coreHarness({ modules: both });
  for (const len of [1, 100, 159]) {
    const a = h.confirmed(0xa1);
    assert.equal(h.packet(a, onion(len)), [{ kind: 'kill', slot: a, reason: CloseReason.BAD_PACKET }], `length ${len}`);
  }
  const a = h.confirmed(0xa1);
  for (const len of [160, 178, 1361, 2032]) assert.equal(h.packet(a, onion(len)), [], `length ${len} dropped`);
  for (const len of [179, 500, 1360]) {
    const actions = h.packet(a, onion(len));
    assert.is(actions.length, 1);
    assert.equal(actions[0], { kind: 'onion', slot: a, bytes: onion(len) });
  }
});

test('without the onion module, onion requests of any length are ignored', async () => {
  const h = await coreHarness({ modules: 0 });
  const a = h.confirmed(0xa1);
  for (const len of [1, 159, 500]) assert.equal(h.packet(a, onion(len)), []);
});

test('forward requests: IPv4 or IPv6 with 0..1792 bytes go to the UDP side', async () => {
  const h = await coreHarness({ modules: both });
  const a = h.confirmed(0xa1);
  for (const [family, addr, data] of [[2, 4, 0], [2, 4, 1792], [10, 16, 5], [10, 16, 1792]] as const) {
    const bytes = forward(family, addr, data);
    assert.equal(h.packet(a, bytes), [{ kind: 'forward', slot: a, bytes }], `${family}/${data}`);
  }
});

test('forward requests kill on a TCP or unknown family, a truncated address or data over 1792', async () => {
  const h = await coreHarness({ modules: both });
  const cases: [string, number[]][] = [
    ['family 130', forward(130, 4, 10)],
    ['family 138', forward(138, 16, 10)],
    ['family 0', forward(0, 4, 10)],
    ['truncated IPv4', [10, 2, 127, 0, 0]],
    ['truncated IPv6', [10, 10, ...new Array(10).fill(1)]],
    ['only an id', [10]],
    ['1793 bytes', forward(2, 4, 1793)],
  ];
  for (const [what, bytes] of cases) {
    const a = h.confirmed(0xa1);
    assert.equal(h.packet(a, bytes), [{ kind: 'kill', slot: a, reason: CloseReason.BAD_PACKET }], what);
  }
});

test('without forwarding, a forward request kills (c-toxcore does the same)', async () => {
  const h = await coreHarness({ modules: CoreModule.ONION });
  const a = h.confirmed(0xa1);
  assert.equal(h.packet(a, forward(2, 4, 1)), [{ kind: 'kill', slot: a, reason: CloseReason.UNSUPPORTED }]);
});

test('a UDP reply reaches a slot only while it holds the same confirmed connection', async () => {
  const h = await coreHarness({ modules: both });
  const a = h.confirmed(0xa1);
  const id = h.x.identifier(a);
  assert.equal(h.deliver(a, id, [9, 1, 2, 3]), [{ kind: 'send', slot: a, bytes: [9, 1, 2, 3], priority: false }]);
  assert.equal(h.deliver(a, id + 1n, [9, 1]), [], 'another identifier');
  h.close(a);
  assert.equal(h.deliver(a, id, [9, 1]), [], 'closed');
  const again = h.confirmed(0xa1);
  assert.is(again, a, 'same slot, new connection');
  assert.equal(h.deliver(a, id, [9, 1]), [], 'stale identifier after the slot was reused');
  const pending = h.handshaken(0xb2);
  assert.equal(h.deliver(pending, 0n, [9, 1]), [], 'unconfirmed');
  assert.equal(h.deliver(-1, 1n, [9, 1]), []);
  assert.equal(h.deliver(1 << 30, 1n, [9, 1]), []);
});

test.run();
