// The host's views of the core's memory must follow it when it grows (growing detaches the old
// ArrayBuffer), or the relay would read and write a dead buffer.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { coreHarness } from './support/core-harness.ts';

test('bytes and actions follow the core memory across a grow', async () => {
  const h = await coreHarness();
  const core = h.core;
  const before = core.bytes;
  const pages = core.x.memory.buffer.byteLength / 65536;
  core.x.memory.grow(1);
  assert.is(before.byteLength, 0, 'the old view is detached');
  const after = core.bytes;
  assert.is(after.byteLength, (pages + 1) * 65536);
  assert.is(after.buffer, core.x.memory.buffer);
  // And the core still works through the new view: a connection's public key round-trips.
  const slot = core.x.openConnection(0);
  assert.ok(slot >= 0);
  assert.is(core.findByKey(new Uint8Array(32).fill(5)), -1);
});

test.run();
