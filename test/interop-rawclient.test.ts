// Interop: a client written in C from PROTOCOL.md alone (test/interop/rawclient.c, libsodium, no
// TypeScript) runs one scripted scenario against our relay and, as the control that proves the
// client itself is right, against Debian's tox-bootstrapd (c-toxcore 0.2.18).
// Needs gcc and libsodium-dev (and toxcore-utils for the control); skipped loudly without them.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { systemClock } from '../src/clock.ts';
import { loadSodium } from '../src/crypto/sodium.ts';
import { silentLogger } from '../src/log.ts';
import { RELAY_DEFAULTS } from '../src/relay/options.ts';
import { startRelay } from '../src/relay/server.ts';
import { run, startBootstrapd, type RelayProcess, type RunResult } from './interop/toxnet.mjs';

const SOURCE = join(dirname(fileURLToPath(import.meta.url)), 'interop', 'rawclient.c');
const BOOTSTRAPD = '/usr/bin/tox-bootstrapd';
const CLIENT_TIMEOUT_MS = 30_000;

/** Every step the C client must report as `ok` (the names printed by rawclient.c). */
const EXPECTED_OK = [
  'handshake A',
  'handshake B (hello split 127+1)',
  'confirm A with PING/PONG',
  'confirm B with PING/PONG',
  'A routing request for B -> [1][16][B pk]',
  'B routing request for A -> [1][16][A pk]',
  'A connect notification [2][16]',
  'B connect notification [2][16]',
  'three 512-byte data packets A->B in order',
  'one 512-byte data packet B->A',
  'OOB A->B [6][B pk][0102030405] -> [7][A pk][0102030405]',
  'PING 0806094300000000 -> PONG with the same bytes',
  'A disconnect [3][16] -> B gets [3][16]',
  'A gets no reply to its disconnect (300 ms)',
  'PING sent in 1-byte writes is answered',
  'A routing request for an offline key -> [1][16][key]',
  'A routing request for B again -> [1][17][B pk]',
  'A relinked: connect notification [2][17]',
  'B relinked: connect notification [2][16]',
  'data A->B rewritten from 17 to 16',
  'data B->A rewritten from 16 to 17',
  'data on the offline link is dropped silently',
  'A still served after all that',
];

function onPath(name: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, name)));
}

function assertAllOk(result: RunResult, against: string): void {
  const report = `rawclient against ${against} (exit ${result.code}, signal ${result.signal}):\n${result.stdout}${result.stderr}`;
  const lines = result.stdout.split('\n');
  const failures = lines.filter((line) => line.startsWith('FAIL '));
  assert.equal(failures, [], report);
  for (const step of EXPECTED_OK) assert.ok(lines.includes(`ok ${step}`), `missing "ok ${step}"\n${report}`);
  assert.is(result.code, 0, report);
}

const toolchain = onPath('gcc') && existsSync('/usr/include/sodium.h');

if (!toolchain) {
  console.log('SKIPPED interop-rawclient: needs gcc and libsodium-dev (apt-get install gcc libsodium-dev)');
} else {
  const workDir = await mkdtemp(join(tmpdir(), 'toxrelay-interop-'));
  const client = join(workDir, 'rawclient');
  const built = await run(
    'gcc',
    ['-O2', '-Wall', '-Wextra', '-Werror', '-std=c11', '-D_POSIX_C_SOURCE=200809L', SOURCE, '-o', client, '-lsodium'],
    60_000,
  );
  if (built.code !== 0) {
    await rm(workDir, { recursive: true, force: true });
    throw new Error(`compiling ${SOURCE} failed (exit ${built.code}):\n${built.stdout}${built.stderr}`);
  }

  test.after(async () => {
    await rm(workDir, { recursive: true, force: true });
  });

  test('a C client written from PROTOCOL.md runs the whole scenario against our relay', async () => {
    const sodium = await loadSodium();
    const kp = sodium.crypto_box_keypair();
    const relay = await startRelay({
      ...RELAY_DEFAULTS,
      ports: [0],
      host: '127.0.0.1',
      publicKey: kp.publicKey,
      secretKey: kp.privateKey,
      logger: silentLogger,
      clock: systemClock,
      autoTimers: false,
    });
    try {
      const port = relay.ports[0];
      const result = await run(client, ['127.0.0.1', String(port), sodium.to_hex(kp.publicKey)], CLIENT_TIMEOUT_MS);
      assertAllOk(result, 'our relay');
      // The hex key may be given in upper case too (a fresh pair of connections, same relay).
      const upper = await run(client, ['127.0.0.1', String(port), sodium.to_hex(kp.publicKey).toUpperCase()], CLIENT_TIMEOUT_MS);
      assertAllOk(upper, 'our relay (upper-case key)');
    } finally {
      await relay.close();
    }
  });

  test('the C client notices a wrong server key (it is not vacuously passing)', async () => {
    const sodium = await loadSodium();
    const kp = sodium.crypto_box_keypair();
    const relay = await startRelay({
      ...RELAY_DEFAULTS,
      ports: [0],
      host: '127.0.0.1',
      publicKey: kp.publicKey,
      secretKey: kp.privateKey,
      logger: silentLogger,
      clock: systemClock,
      autoTimers: false,
    });
    try {
      const wrong = sodium.crypto_box_keypair().publicKey;
      const result = await run(client, ['127.0.0.1', String(relay.ports[0]), sodium.to_hex(wrong)], CLIENT_TIMEOUT_MS);
      assert.is(result.code, 1, result.stdout + result.stderr);
      assert.match(result.stdout, /^FAIL handshake A: /m);
      assert.not.match(result.stdout, /^ok /m);
    } finally {
      await relay.close();
    }
  });

  if (!existsSync(BOOTSTRAPD)) {
    console.log(`SKIPPED interop-rawclient control against tox-bootstrapd: ${BOOTSTRAPD} not found (apt-get install toxcore-utils)`);
  } else {
    test('control: the same C client passes the same scenario against tox-bootstrapd 0.2.18', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'toxrelay-bootstrapd-'));
      let daemon: RelayProcess | undefined;
      try {
        daemon = await startBootstrapd(dir);
        const result = await run(client, ['127.0.0.1', String(daemon.port), daemon.publicKey], CLIENT_TIMEOUT_MS);
        assertAllOk(result, `tox-bootstrapd (${BOOTSTRAPD})`);
      } finally {
        await daemon?.stop();
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
}

test.run();
