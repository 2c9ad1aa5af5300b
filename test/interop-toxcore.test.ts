// Interop with REAL Tox clients: test/interop/toxharness.c builds, on loopback, a small DHT of
// ordinary UDP Tox nodes (libtoxcore 0.2.18) and two clients A and B with UDP off whose only TCP
// relay is the relay under test. A befriends B, they exchange messages and a file, and (full
// variant) stay online idle. Run against:
//   - tox-bootstrapd 0.2.18, the control that proves the harness right;
//   - toxrelay (bin/toxrelay.js, with --udp-port for the onion first hop and forwarding);
//   - nothing: the harness must fail at phase `relay`, so it cannot pass without a relay.
// Quick variant by default (1 MiB file, no hold); TOXRELAY_INTEROP_FULL=1 runs the full one
// (4 MiB file, 45 s idle hold). `node scripts/interop.mjs` runs the same outside the suite.
// Needs gcc, libtoxcore-dev and libsodium-dev (and toxcore-utils for the control); skipped loudly
// without them.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  BOOTSTRAPD,
  INSTALL_HINT,
  buildHarness,
  freeTcpPort,
  harnessBoundMs,
  missingToolchain,
  runHarness,
  startBootstrapd,
  startToxrelay,
  type HarnessOptions,
  type HarnessRun,
  type RelayProcess,
} from './interop/toxnet.mjs';

const FULL = process.env.TOXRELAY_INTEROP_FULL === '1';
const OPTIONS: HarnessOptions = FULL ? { fileMib: 4, hold: 45 } : { fileMib: 1 };
const EXPECTED = ['dht', 'relay', 'friend-request', 'online', 'messages', 'file', ...(FULL ? ['hold'] : [])];
const VARIANT = FULL ? 'full (4 MiB file, 45 s hold)' : 'quick (1 MiB file, no hold; TOXRELAY_INTEROP_FULL=1 for the full run)';

function report(run: HarnessRun, against: string): string {
  return `toxharness against ${against} (${run.args.join(' ')}; exit ${run.code}, signal ${run.signal}, ${run.wallSeconds.toFixed(1)} s):\n${run.stdout}${run.stderr}`;
}

function timings(run: HarnessRun): string {
  return run.phases.map((p) => (p.ok ? `${p.name} ${p.seconds.toFixed(2)} s` : `${p.name} FAIL`)).join(', ');
}

function assertPassed(run: HarnessRun, against: string, relay?: RelayProcess): void {
  const text = report(run, against) + (relay ? `\n${relay.name} output:\n${relay.output()}` : '');
  const failed = run.phases.filter((p) => !p.ok);
  assert.equal(failed.map((p) => p.line), [], text);
  assert.equal(run.phases.map((p) => p.name), EXPECTED, text);
  assert.is(run.code, 0, text);
  console.log(`interop-toxcore ${against}: ${timings(run)}`);
}

const missing = missingToolchain();

if (missing.length > 0) {
  console.log(
    `SKIPPED interop-toxcore: needs gcc libtoxcore-dev libsodium-dev (${INSTALL_HINT}); missing: ${missing.join(', ')}`,
  );
} else {
  const workDir = await mkdtemp(join(tmpdir(), 'toxrelay-toxcore-'));
  let harness: string;
  try {
    harness = await buildHarness(workDir);
  } catch (error) {
    await rm(workDir, { recursive: true, force: true });
    throw error;
  }
  console.log(`interop-toxcore: ${VARIANT}`);

  // The relay-absent run only waits for timeouts, so it runs alongside this file's other tests
  // (started by test.before, when this suite begins, not at import: uvu imports every test file
  // before it runs any); its own test, the last one, awaits it. Nothing listens on its port; even
  // if the port were taken meanwhile, the key is random, so no relay could complete a handshake.
  const absentOptions: HarnessOptions = { fileMib: 0, timeoutScale: 0.5 };
  let absentSpec = '';
  let absentRun: Promise<HarnessRun> | undefined;

  test.before(async () => {
    absentSpec = `127.0.0.1:${await freeTcpPort()}:${randomBytes(32).toString('hex')}`;
    absentRun = runHarness(harness, absentSpec, absentOptions);
  });

  test.after(async () => {
    await absentRun; // bounded by the harness's own alarm and the run() timeout
    await rm(workDir, { recursive: true, force: true });
  });

  if (!existsSync(BOOTSTRAPD)) {
    console.log(`SKIPPED interop-toxcore control against tox-bootstrapd: ${BOOTSTRAPD} not found (${INSTALL_HINT})`);
  } else {
    test('control: real Tox clients befriend and talk through tox-bootstrapd 0.2.18 as their only relay', async () => {
      const dir = await mkdtemp(join(workDir, 'bootstrapd-'));
      let relay: RelayProcess | undefined;
      try {
        relay = await startBootstrapd(dir);
        const run = await runHarness(harness, relay.spec(), OPTIONS);
        assertPassed(run, 'tox-bootstrapd', relay);
      } finally {
        await relay?.stop();
      }
    });
  }

  test('real Tox clients befriend and talk through toxrelay as their only relay', async () => {
    const dir = await mkdtemp(join(workDir, 'toxrelay-'));
    let relay: RelayProcess | undefined;
    try {
      relay = await startToxrelay(dir);
      const run = await runHarness(harness, relay.spec(), OPTIONS);
      assertPassed(run, 'toxrelay', relay);
    } finally {
      await relay?.stop();
    }
  });

  test('with no relay listening the harness fails at phase relay, within its bound', async () => {
    assert.ok(absentRun, 'the relay-absent run was not started');
    const run = await absentRun!;
    const text = report(run, `nothing (${absentSpec})`);
    assert.is(run.code, 1, text);
    assert.is(run.signal, null, text);
    const byName = new Map(run.phases.map((p) => [p.name, p]));
    assert.ok(byName.get('dht')?.ok, `the DHT itself must come up:\n${text}`);
    assert.is(byName.get('relay')?.ok, false, `expected "phase relay FAIL":\n${text}`);
    assert.equal(run.phases.map((p) => p.name), ['dht', 'relay'], text);
    assert.match(byName.get('relay')!.detail, /A is NONE and B is NONE/, text);
    // dht and relay are bounded by 60 s each, times the 0.5 scale, plus start-up and shut-down.
    assert.ok(run.wallSeconds < 60 + 20, `took ${run.wallSeconds.toFixed(1)} s:\n${text}`);
    assert.ok(run.wallSeconds * 1000 < harnessBoundMs(absentOptions), text);
  });
}

test.run();
