// libsodium-wrappers-sumo, loaded once. The wrapper API serves the handshake; the relay path
// calls libsodium's raw functions on its own heap (see box.ts) to avoid per-packet allocation.

import sodium from 'libsodium-wrappers-sumo';

/** The raw emscripten module behind the wrappers (not in the package's typings). */
export interface RawSodium {
  HEAPU8: Uint8Array;
  _malloc(size: number): number;
  _free(ptr: number): void;
  // 64-bit lengths are passed as (low, high) 32-bit halves.
  _crypto_box_easy_afternm(c: number, m: number, mlenLo: number, mlenHi: number, n: number, k: number): number;
  _crypto_box_open_easy_afternm(m: number, c: number, clenLo: number, clenHi: number, n: number, k: number): number;
}

export type Sodium = typeof sodium;

let ready: Promise<Sodium> | undefined;

export function loadSodium(): Promise<Sodium> {
  ready ??= sodium.ready.then(() => sodium);
  return ready;
}

export function rawSodium(s: Sodium): RawSodium {
  return (s as unknown as { libsodium: RawSodium }).libsodium;
}
