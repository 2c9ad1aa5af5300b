// V8's young generation for toxrelay's processes: the relay (`npm start` and `bench --compare`
// pass these flags, README shows operators how; test/young-generation.test.ts keeps package.json
// in step) and the bench's workers (src/bench/pool.ts). V8 starts the young generation at a 1 MiB semi-space and grows it
// only when much survives a scavenge, which a relay's short-lived buffers never do; so a busy or
// busy-polling relay stopped for a scavenge every few milliseconds. A fixed 16 MiB semi-space
// makes them ~16× rarer for ~30 MiB of memory. Measured in session 4 (docs/PERFORMANCE.md):
// 1-pair RTT p99 ~360-540 µs → 260-300 µs with the relay on these flags.
export const YOUNG_GENERATION_FLAGS: readonly string[] = ['--min-semi-space-size=16', '--max-semi-space-size=16'];
