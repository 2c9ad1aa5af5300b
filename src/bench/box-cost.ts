// The yardstick of the relay's CPU per packet: what its two box operations (open the sender's
// frame, seal the receiver's) cost on their own, measured by the bench on libsodium.js's raw
// functions just before a throughput run's load starts, on the same machine in the same run. The
// relay's CPU per packet divided by this is its overhead beyond the crypto it cannot avoid.

import { performance } from 'node:perf_hooks';
import { KEY_SIZE as KEY, MAC_SIZE as MAC, NONCE_SIZE as NONCE } from '../crypto/box.ts';
import { loadSodium, rawSodium } from '../crypto/sodium.ts';

/**
 * Each operation is timed in REPEATS slices of SLICE_MS (at most MAX_ITERATIONS calls each) and
 * the fastest slice counts: on a shared machine the slowest ones measure the neighbours.
 */
const REPEATS = 7;
const SLICE_MS = 40;
const MAX_ITERATIONS = 50_000;
const BATCH = 100;

export interface BoxCost {
  /** Plaintext bytes of the packet measured (a data packet: conn_id + payload). */
  plaintextBytes: number;
  sealUs: number;
  openUs: number;
}

export async function measureBoxCost(plaintextBytes: number): Promise<BoxCost> {
  const raw = rawSodium(await loadSodium());
  const key = raw._malloc(KEY);
  const nonce = raw._malloc(NONCE);
  const clear = raw._malloc(plaintextBytes);
  const sealed = raw._malloc(plaintextBytes + MAC);
  try {
    if (!key || !nonce || !clear || !sealed) throw new Error("box cost: libsodium's heap is full");
    raw.HEAPU8.fill(7, key, key + KEY);
    raw.HEAPU8.fill(1, nonce, nonce + NONCE);
    raw.HEAPU8.fill(42, clear, clear + plaintextBytes);
    const time = (op: () => void): number => {
      for (let i = 0; i < BATCH; i++) op(); // warm
      let best = Number.POSITIVE_INFINITY;
      for (let r = 0; r < REPEATS; r++) {
        let n = 0;
        const start = performance.now();
        const until = start + SLICE_MS;
        while (n < MAX_ITERATIONS && performance.now() < until) {
          for (let i = 0; i < BATCH; i++) op();
          n += BATCH;
        }
        best = Math.min(best, ((performance.now() - start) * 1000) / n);
      }
      return best;
    };
    const sealUs = time(() => raw._crypto_box_easy_afternm(sealed, clear, plaintextBytes, 0, nonce, key));
    let failed = false;
    const openUs = time(() => {
      if (raw._crypto_box_open_easy_afternm(clear, sealed, plaintextBytes + MAC, 0, nonce, key) !== 0) failed = true;
    });
    if (failed) throw new Error('box cost: a sealed frame did not open');
    return { plaintextBytes, sealUs: round(sealUs), openUs: round(openUs) };
  } finally {
    for (const ptr of [key, nonce, clear, sealed]) if (ptr) raw._free(ptr);
  }
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
