import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { coreHarness } from './support/core-harness.ts';

const h = await coreHarness();

const frame = (len: number, fill = 0xab) => [len >> 8, len & 0xff, ...new Array(len).fill(fill)];

test('a handshake is 128 bytes without prefix, gathered from pieces', () => {
  const slot = h.x.openConnection(0);
  const hello = Array.from({ length: 128 }, (_, i) => i);
  assert.equal(h.frames(slot, hello.slice(0, 127)).results, [0]);
  const r = h.frames(slot, hello.slice(127));
  assert.equal(r.results[0], 128);
  assert.equal(r.frames[0], hello);
  h.close(slot);
});

test('whole frames in one read come out one by one, in place', () => {
  const slot = h.handshaken(1);
  const r = h.frames(slot, [...frame(17, 1), ...frame(40, 2), ...frame(2048, 3)]);
  assert.equal(r.results, [17, 40, 2048, 0]);
  assert.equal(r.frames[1], new Array(40).fill(2));
  h.close(slot);
});

test('a frame split into 1-byte reads is reassembled', () => {
  const slot = h.handshaken(1);
  const bytes = [...frame(300, 7)];
  const seen: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    const r = h.frames(slot, [bytes[i]!]);
    if (r.results[0]! > 0) {
      seen.push(r.results[0]!);
      assert.equal(r.frames[0], new Array(300).fill(7));
      assert.is(i, bytes.length - 1);
    }
  }
  assert.equal(seen, [300]);
  assert.is(h.x.partialFrames(), 0, 'the gathering block is returned');
  h.close(slot);
});

test('a zero length is skipped without ending the stream', () => {
  const slot = h.handshaken(1);
  const r = h.frames(slot, [0, 0, 0, 0, ...frame(20, 9), 0, 0]);
  assert.equal(r.results, [20, 0]);
  h.close(slot);
});

test('lengths 1..16 close once the whole frame is there; a prefix alone does not', () => {
  for (const len of [1, 2, 15, 16]) {
    const slot = h.handshaken(1);
    assert.equal(h.frames(slot, [0, len]).results, [0], `prefix ${len} alone`);
    assert.equal(h.frames(slot, new Array(len).fill(0)).results, [-1], `length ${len}`);
    h.close(slot);
  }
});

test('a length above 2048 closes as soon as the prefix is read', () => {
  for (const len of [2049, 0xffff]) {
    const slot = h.handshaken(1);
    assert.equal(h.frames(slot, [len >> 8, len & 0xff]).results, [-1]);
    h.close(slot);
  }
});

test('a prefix split across reads', () => {
  const slot = h.handshaken(1);
  assert.equal(h.frames(slot, [0]).results, [0]);
  assert.equal(h.frames(slot, [17]).results, [0]);
  const r = h.frames(slot, new Array(17).fill(5));
  assert.equal(r.results, [17, 0]);
  h.close(slot);
});

test('bytes after the handshake in the same read are framed', () => {
  const slot = h.x.openConnection(0);
  const r1 = h.frames(slot, [...new Array(128).fill(1), 0, 0, 0]);
  assert.equal(r1.results[0], 128);
  h.core.bytes.fill(0, h.core.scratchPtr, h.core.scratchPtr + 80);
  h.x.handshakeDone(slot);
  // The rest of that read (the host calls nextFrame again after the handshake).
  assert.is(h.x.nextFrame(), 0);
  // "00 00" was padding, "00" is half a prefix
  assert.equal(h.frames(slot, [17, ...new Array(17).fill(4)]).results, [17, 0]);
  assert.is(h.x.partialFrames(), 0);
  h.close(slot);
});

test('closing a connection mid-frame returns its gathering block', () => {
  const slot = h.handshaken(1);
  h.frames(slot, frame(100).slice(0, 50));
  assert.is(h.x.partialFrames(), 1);
  h.close(slot);
  assert.is(h.x.partialFrames(), 0);
});

test.run();
