// The README's client example runs against a real relay and does what it says.
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { timed } from './support/process.ts';
import { testRelay } from './support/relay.ts';

const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', TSX, 'examples/link-two-clients.ts', ...args], { timeout: 20_000, killSignal: 'SIGKILL', encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
    });
  });
}

test(
  'examples/link-two-clients.ts links two clients and relays a packet between them',
  timed(async () => {
    const r = await testRelay();
    try {
      const out = await run(['127.0.0.1', String(r.port), Buffer.from(r.publicKey).toString('hex')]);
      assert.is(out.stderr, '');
      assert.is(out.code, 0);
      assert.is(out.stdout, 'bob got: hello over the relay\n');
    } finally {
      await r.close();
    }
  }, 30_000),
);

test(
  'without a relay key it says how to call it',
  timed(async () => {
    const out = await run(['127.0.0.1', '1']);
    assert.is(out.code, 2);
    assert.match(out.stderr, /usage: link-two-clients\.ts HOST PORT RELAY_PUBLIC_KEY_HEX/);
  }, 30_000),
);

test.run();
