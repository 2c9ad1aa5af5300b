// Ping ids only need to be unpredictable to a client that cannot see its own ping in advance;
// a xorshift generator seeded by the host's CSPRNG is enough and keeps crypto out of the core.

let state: u64 = 0x9e3779b97f4a7c15;

export function randomSeed(seed: u64): void {
  state = seed != 0 ? seed : 0x9e3779b97f4a7c15;
}

/** A random non-zero 64-bit value (c-toxcore never sends a ping id of 0). */
export function randomNonZero(): u64 {
  let x: u64 = 0;
  while (x == 0) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    x = state * 0x2545f4914f6cdd1d;
  }
  return x;
}
