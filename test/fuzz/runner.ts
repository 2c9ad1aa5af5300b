// `npm run fuzz -- [--target NAME]… [--seconds N] [--seed S] [--runs N]`: runs the fuzz targets
// with fresh seeds, in batches, round-robin, until the time is up. On a failure, fast-check's
// shrunk counterexample is written to test/fuzz/regressions/<target>-<timestamp>.json, which
// test/fuzz-regressions.test.ts replays from then on, and the runner exits 1.

import fc from 'fast-check';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { packetsCoverage } from './packets.ts';
import { encodeInput, findTarget, releaseTargets, targets, type FuzzTarget, type Regression } from './targets.ts';

function usage(message?: string): never {
  if (message) console.error(`fuzz: ${message}`);
  console.error('usage: npm run fuzz -- [--target NAME]… [--seconds N] [--seed S] [--runs N]');
  console.error(`targets: ${targets.map((t) => t.name).join(', ')}`);
  process.exit(2);
}

const args = process.argv.slice(2);
const chosen: FuzzTarget[] = [];
let seconds = 60;
let seed: number | undefined;
let batch: number | undefined;
for (let i = 0; i < args.length; i++) {
  const a = args[i]!;
  const value = () => args[++i] ?? usage(`${a} needs a value`);
  if (a === '--target') {
    try {
      chosen.push(findTarget(value()));
    } catch (e) {
      usage((e as Error).message);
    }
  } else if (a === '--seconds') seconds = Number(value());
  else if (a === '--seed') seed = Number(value());
  else if (a === '--runs') batch = Number(value());
  else if (a === '--help' || a === '-h') usage();
  else usage(`unknown argument ${a}`);
}
if (!(seconds > 0)) usage('--seconds must be a positive number');
if (seed !== undefined && !Number.isInteger(seed)) usage('--seed must be an integer');
const list = chosen.length ? chosen : targets;

// A seed sequence: from --seed when given (reproducible), else random.
let next = seed ?? Math.floor(Math.random() * 0x7fffffff);
const nextSeed = () => {
  const s = next | 0;
  next = (Math.imul(next ^ (next >>> 15), 0x2c1b3c6d) + 0x9e3779b9) | 0;
  return s;
};

const regressions = fileURLToPath(new URL('./regressions/', import.meta.url));
const deadline = Date.now() + seconds * 1000;
const totals = new Map(list.map((t) => [t.name, 0]));
console.log(`fuzzing ${list.map((t) => t.name).join(', ')} for ${seconds} s (first seed ${next})`);

let failed = false;
outer: while (Date.now() < deadline) {
  for (const t of list) {
    if (Date.now() >= deadline) break outer;
    const s = nextSeed();
    const numRuns = batch ?? t.suiteRuns;
    const result = await fc.check(fc.asyncProperty(t.arbitrary, (input) => t.run(input)), { seed: s, numRuns });
    totals.set(t.name, totals.get(t.name)! + result.numRuns);
    if (!result.failed) continue;
    failed = true;
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const file = `${regressions}${t.name}-${stamp}.json`;
    const error = result.errorInstance instanceof Error ? result.errorInstance.message : String(result.errorInstance);
    const saved: Regression = {
      target: t.name,
      seed: s,
      path: result.counterexamplePath ?? undefined,
      error,
      found: new Date().toISOString(),
      input: encodeInput(result.counterexample?.[0]),
    };
    mkdirSync(regressions, { recursive: true });
    writeFileSync(file, JSON.stringify(saved, null, 2) + '\n');
    const path = result.counterexamplePath ?? '';
    console.error(`\nFAILED ${t.name} (seed ${s}, path ${path.length > 60 ? path.slice(0, 60) + '…' : path}, ${result.numShrinks} shrinks): ${error}`);
    console.error(`saved the shrunk input to ${file}; the suite replays it (test/fuzz-regressions.test.ts)`);
    break outer;
  }
}
await releaseTargets();
for (const [name, n] of totals) console.log(`${name}: ${n} runs`);
if (totals.has('packets')) console.log(`packets reached: ${JSON.stringify(packetsCoverage)}`);
console.log(failed ? 'fuzz: FAILED' : 'fuzz: no failure');
process.exit(failed ? 1 : 0);
