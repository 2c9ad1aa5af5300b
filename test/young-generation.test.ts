// toxrelay's relay runs with a fixed young generation (src/young-generation.ts): `npm start` passes
// the flags, and a relay started that way shows the 16 MiB semi-space in its own process metrics.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { YOUNG_GENERATION_FLAGS } from '../src/young-generation.ts';
import { freePort, timed } from './support/process.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin/toxrelay.js');

test('`npm start` passes the young-generation flags', async () => {
  const scripts = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')).scripts;
  assert.is(scripts.start, `node ${YOUNG_GENERATION_FLAGS.join(' ')} bin/toxrelay.js`);
});

test(
  'a relay started with them has a 16 MiB semi-space (from its /metrics)',
  timed(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'toxrelay-young-'));
    const metricsPort = await freePort();
    const relay = spawn(process.execPath, [...YOUNG_GENERATION_FLAGS, BIN, '--host', '127.0.0.1', '--port', '0', '--no-udp', '--keys', join(dir, 'keys'), '--metrics', `127.0.0.1:${metricsPort}`, '--log-level', 'warn'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        let out = '';
        relay.stdout!.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes('Public key:')) resolve();
        });
        relay.once('exit', (code) => reject(new Error(`relay exited (code ${code})`)));
      });
      let text = '';
      for (let attempt = 0; attempt < 50 && !text.includes('space="new"'); attempt++) {
        text = await fetch(`http://127.0.0.1:${metricsPort}/metrics`).then((r) => r.text(), () => '');
        if (!text.includes('space="new"')) await new Promise((r) => setTimeout(r, 100));
      }
      const match = /^toxrelay_process_nodejs_heap_space_size_total_bytes\{space="new"\} (\d+)/m.exec(text);
      assert.ok(match, 'the new space appears in the process metrics');
      assert.ok(Number(match![1]) >= 16 * 1024 * 1024, `new space ${match![1]} bytes`);
    } finally {
      relay.kill('SIGTERM'); // our own child, by its handle
      await new Promise((resolve) => (relay.exitCode === null ? relay.once('exit', resolve) : resolve(undefined)));
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000),
);

test.run();
