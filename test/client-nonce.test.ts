import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { incrementNonce, NONCE_SIZE } from '../src/client/nonce.ts';

// An independent model: the nonce as a 192-bit big-endian integer.
function toBig(nonce: Uint8Array): bigint {
  let n = 0n;
  for (const byte of nonce) n = (n << 8n) | BigInt(byte);
  return n;
}
function fromBig(n: bigint): Uint8Array {
  const out = new Uint8Array(NONCE_SIZE);
  for (let i = NONCE_SIZE - 1; i >= 0; i--) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}
const MOD = 1n << 192n;

test('adds one to the last byte (big-endian), not the first', () => {
  const nonce = new Uint8Array(NONCE_SIZE);
  incrementNonce(nonce);
  assert.is(nonce[23], 1);
  assert.is(nonce[0], 0);
  assert.equal(nonce, fromBig(1n));
});

test('carries from byte 23 towards byte 0', () => {
  const nonce = new Uint8Array(NONCE_SIZE);
  nonce[21] = 0x07;
  nonce[22] = 0xff;
  nonce[23] = 0xff;
  incrementNonce(nonce);
  assert.equal([...nonce.subarray(20)], [0, 0x08, 0, 0]);
});

test('wraps to zero after 2^192 - 1', () => {
  const nonce = new Uint8Array(NONCE_SIZE).fill(0xff);
  incrementNonce(nonce);
  assert.equal(nonce, new Uint8Array(NONCE_SIZE));
});

test('matches the integer model over many steps from random starts', () => {
  for (let round = 0; round < 50; round++) {
    const nonce = crypto.getRandomValues(new Uint8Array(NONCE_SIZE));
    // Bias some starts towards long carries.
    if (round % 5 === 0) nonce.fill(0xff, 10 + (round % 14));
    let expected = toBig(nonce);
    for (let step = 0; step < 300; step++) {
      incrementNonce(nonce);
      expected = (expected + 1n) % MOD;
    }
    assert.is(toBig(nonce), expected);
  }
});

test('is not little-endian (sodium_increment would touch byte 0)', () => {
  const nonce = fromBig(0xffn); // ...00 ff
  incrementNonce(nonce);
  assert.is(nonce[0], 0);
  assert.is(nonce[22], 1);
  assert.is(nonce[23], 0);
});

test.run();
