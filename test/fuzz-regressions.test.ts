// Replays every input `npm run fuzz` saved in test/fuzz/regressions/ (one JSON each, written when
// a target failed) through its target. An empty directory is fine.
import { test } from 'uvu';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { decodeInput, findTarget, releaseTargets, type Regression } from './fuzz/targets.ts';

const dir = fileURLToPath(new URL('./fuzz/regressions/', import.meta.url));
const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

for (const file of files) {
  const saved = JSON.parse(readFileSync(dir + file, 'utf8')) as Regression;
  test(`fuzz regression ${file} (${saved.target})`, async () => {
    await findTarget(saved.target).run(decodeInput(saved.input));
  });
}

test('fuzz regressions: every saved input names a known target', () => {
  for (const file of files) findTarget((JSON.parse(readFileSync(dir + file, 'utf8')) as Regression).target);
});

test.after(releaseTargets);
test.run();
