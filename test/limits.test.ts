// The open-files check at start (toxrelay cannot raise the limit, so it says when it is too low).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openFilesLimit, openFilesWarning } from '../src/cli/limits.ts';

const dir = mkdtempSync(join(tmpdir(), 'toxrelay-limits-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function limitsFile(soft: string, hard: string): string {
  const path = join(dir, `limits-${soft}-${hard}`);
  writeFileSync(
    path,
    'Limit                     Soft Limit           Hard Limit           Units     \n' +
      `Max open files            ${soft.padEnd(20)} ${hard.padEnd(20)} files     \n`,
  );
  return path;
}

test('reads soft and hard limits, unlimited included', () => {
  assert.equal(openFilesLimit(limitsFile('1024', '4096')), { soft: 1024, hard: 4096 });
  assert.equal(openFilesLimit(limitsFile('unlimited', 'unlimited')), { soft: Infinity, hard: Infinity });
  assert.is(openFilesLimit(join(dir, 'missing')), undefined);
});

test('warns only when the cap does not fit under the soft limit', () => {
  const warning = openFilesWarning(10_000, { soft: 1024, hard: 20_000 });
  assert.match(warning ?? '', /open-files limit is 1024 \(hard 20000\), too low for --max-connections 10000/);
  assert.is(openFilesWarning(10_000, { soft: 20_000, hard: 20_000 }), undefined);
  assert.is(openFilesWarning(10_000, undefined), undefined);
});

test('this machine\'s own limit is readable on Linux', () => {
  if (process.platform !== 'linux') return;
  const limit = openFilesLimit();
  assert.ok(limit && limit.soft > 0 && limit.hard >= limit.soft);
});

test.run();
