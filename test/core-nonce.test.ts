import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { coreHarness } from './support/core-harness.ts';

const h = await coreHarness();

function increment(bytes: number[]): number[] {
  const p = h.core.scratchPtr;
  h.core.bytes.set(bytes, p);
  h.x.nonceIncrement(p);
  return Array.from(h.core.bytes.subarray(p, p + 24));
}

test('adds one at the last byte (big-endian)', () => {
  const n = new Array(24).fill(0);
  const out = increment(n);
  assert.is(out[23], 1);
  assert.equal(out.slice(0, 23), new Array(23).fill(0));
});

test('carries towards byte 0', () => {
  const n = new Array(24).fill(0);
  n[22] = 0x01;
  n[23] = 0xff;
  const out = increment(n);
  assert.is(out[22], 0x02);
  assert.is(out[23], 0x00);
});

test('carries across many bytes', () => {
  const n = new Array(24).fill(0);
  n[10] = 0x7f;
  for (let i = 11; i < 24; i++) n[i] = 0xff;
  const out = increment(n);
  assert.is(out[10], 0x80);
  for (let i = 11; i < 24; i++) assert.is(out[i], 0);
});

test('wraps modulo 2^192', () => {
  assert.equal(increment(new Array(24).fill(0xff)), new Array(24).fill(0));
});

test('differs from sodium_increment (little-endian)', () => {
  const n = new Array(24).fill(0);
  n[0] = 0xff;
  const out = increment(n);
  assert.is(out[0], 0xff);
  assert.is(out[23], 1);
});

test.run();
