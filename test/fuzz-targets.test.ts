// The fuzz targets (test/fuzz/) as property tests: a fixed seed and a bounded count, so the suite
// is deterministic. `npm run fuzz` runs the same targets with random seeds for longer.
import { test } from 'uvu';
import fc from 'fast-check';
import { releaseTargets, targets } from './fuzz/targets.ts';

const SEED = 0x70_78_72_6c; // "txrl"

for (const t of targets) {
  test(`fuzz ${t.name}: ${t.description} (${t.suiteRuns} runs, seed ${SEED})`, async () => {
    await fc.assert(fc.asyncProperty(t.arbitrary, (input) => t.run(input)), { seed: SEED, numRuns: t.suiteRuns, endOnFailure: false });
  });
}

test.after(releaseTargets);
test.run();
