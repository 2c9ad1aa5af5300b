// src/keys.ts against real files in a temporary directory.
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sodium from 'libsodium-wrappers-sumo';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KeyFileError, generateKeyFile, loadOrCreateKeys, parseHexKey, readPublicKey, toHex } from '../src/keys.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
let dir = '';

test.before(async () => {
  await sodium.ready;
  dir = await mkdtemp(join(tmpdir(), 'toxrelay-keys-'));
});
test.after(async () => {
  await rm(dir, { recursive: true, force: true });
});

let n = 0;
const fresh = () => join(dir, `k${++n}.keys`);

/** pk ‖ sk, as tox-bootstrapd writes it. */
function bootstrapdFile(): { bytes: Uint8Array; publicKey: Uint8Array; secretKey: Uint8Array } {
  const kp = sodium.crypto_box_keypair();
  const bytes = new Uint8Array(64);
  bytes.set(kp.publicKey, 0);
  bytes.set(kp.privateKey, 32);
  return { bytes, publicKey: kp.publicKey, secretKey: kp.privateKey };
}

/** Asserts that `run` rejects with a one-line KeyFileError naming `path` and matching `pattern`. */
async function rejectsKeyFileError(run: () => Promise<unknown>, path: string, pattern: RegExp): Promise<void> {
  try {
    await run();
  } catch (err) {
    assert.instance(err, KeyFileError);
    const message = (err as KeyFileError).message;
    assert.match(message, pattern);
    assert.ok(message.includes(path), `message names the file: ${message}`);
    assert.not.match(message, /\n/);
    return;
  }
  assert.unreachable('expected a KeyFileError');
}

async function mode(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777;
}

test('a missing keys file is created: 64 bytes pk ‖ sk, mode 0600, pk derived from sk', async () => {
  const path = fresh();
  const keys = await loadOrCreateKeys(path);
  assert.is(keys.created, true);
  assert.equal(keys.warnings, []);
  assert.is(await mode(path), 0o600);
  const bytes = new Uint8Array(await readFile(path));
  assert.is(bytes.length, 64);
  assert.equal(bytes.slice(0, 32), keys.publicKey);
  assert.equal(bytes.slice(32), keys.secretKey);
  assert.equal(sodium.crypto_scalarmult_base(keys.secretKey), keys.publicKey);
  assert.equal((await readdir(dir)).filter((f) => f.endsWith('.tmp')), [], 'no temporary file is left');
});

test('loading again gives the same keys and does not rewrite the file', async () => {
  const path = fresh();
  const first = await loadOrCreateKeys(path);
  const before = await stat(path);
  const again = await loadOrCreateKeys(path);
  assert.is(again.created, false);
  assert.equal(again.publicKey, first.publicKey);
  assert.equal(again.secretKey, first.secretKey);
  assert.is((await stat(path)).mtimeMs, before.mtimeMs);
});

test('concurrent first starts agree on one keypair (creation never clobbers)', async () => {
  const path = fresh();
  const all = await Promise.all([1, 2, 3, 4, 5].map(() => loadOrCreateKeys(path)));
  assert.is(all.filter((k) => k.created).length, 1);
  for (const k of all) assert.equal(k.publicKey, all[0]!.publicKey);
  assert.equal(new Uint8Array(await readFile(path)).slice(0, 32), all[0]!.publicKey);
});

test('a keys file written by tox-bootstrapd loads as it is', async () => {
  const path = fresh();
  const f = bootstrapdFile();
  await writeFile(path, f.bytes, { mode: 0o600 });
  const keys = await loadOrCreateKeys(path);
  assert.is(keys.created, false);
  assert.equal(keys.publicKey, f.publicKey);
  assert.equal(keys.secretKey, f.secretKey);
});

test('bytes after the 64th are ignored with a warning, as tox-bootstrapd ignores them', async () => {
  const path = fresh();
  const f = bootstrapdFile();
  const long = new Uint8Array([...f.bytes, 1, 2, 3]);
  await writeFile(path, long);
  const keys = await loadOrCreateKeys(path);
  assert.equal(keys.publicKey, f.publicKey);
  assert.equal(keys.secretKey, f.secretKey);
  assert.is(keys.warnings.length, 1);
  assert.match(keys.warnings[0]!, /67 bytes/);
  assert.equal(new Uint8Array(await readFile(path)), long, 'the file is left as it is');
});

test('a short keys file is refused and left unchanged', async () => {
  for (const size of [0, 12, 63]) {
    const path = fresh();
    const short = bootstrapdFile().bytes.slice(0, size);
    await writeFile(path, short);
    await rejectsKeyFileError(() => loadOrCreateKeys(path), path, new RegExp(`is ${size} bytes; a tox-bootstrapd keys file is 64 bytes`));
    assert.equal(new Uint8Array(await readFile(path)), short);
  }
});

test('a keys file whose public key does not match its secret key is refused and left unchanged', async () => {
  const path = fresh();
  const bad = bootstrapdFile().bytes;
  bad[0]! ^= 1;
  await writeFile(path, bad);
  await rejectsKeyFileError(() => loadOrCreateKeys(path), path, /does not match its secret key/);
  await rejectsKeyFileError(() => readPublicKey(path), path, /does not match its secret key/);
  assert.equal(new Uint8Array(await readFile(path)), bad);
});

test('a directory in place of the keys file is refused', async () => {
  const path = fresh();
  await mkdir(path);
  await rejectsKeyFileError(() => loadOrCreateKeys(path), path, /is a directory/);
  assert.ok((await stat(path)).isDirectory());
});

test('an unreadable keys file is refused and left unchanged', async () => {
  const path = fresh();
  const f = bootstrapdFile();
  await writeFile(path, f.bytes);
  await chmod(path, 0o000);
  try {
    if (process.getuid?.() === 0) {
      // root reads any file, so ask as nobody, in a child process.
      await chmod(dir, 0o755);
      const script =
        `import { loadOrCreateKeys } from ${JSON.stringify(join(ROOT, 'src/keys.ts'))};` +
        `try { await loadOrCreateKeys(${JSON.stringify(path)}); console.log('loaded'); }` +
        `catch (e) { console.log(e.name + ': ' + e.message); }`;
      const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        cwd: ROOT,
        uid: 65534,
        gid: 65534,
        encoding: 'utf8',
        timeout: 20_000,
      });
      assert.is(r.status, 0, r.stderr);
      assert.is(r.stdout.trim(), `KeyFileError: keys file ${path} cannot be read: permission denied`);
    } else {
      await rejectsKeyFileError(() => loadOrCreateKeys(path), path, /cannot be read: permission denied/);
    }
  } finally {
    await chmod(dir, 0o700);
    await chmod(path, 0o600);
  }
  assert.equal(new Uint8Array(await readFile(path)), f.bytes);
});

test('generateKeyFile writes a new 0600 keys file that loads back', async () => {
  const path = fresh();
  const keys = await generateKeyFile(path);
  assert.is(await mode(path), 0o600);
  const loaded = await loadOrCreateKeys(path);
  assert.is(loaded.created, false);
  assert.equal(loaded.publicKey, keys.publicKey);
  assert.equal(loaded.secretKey, keys.secretKey);
});

test('generateKeyFile refuses to overwrite an existing file unless forced', async () => {
  const path = fresh();
  const old = bootstrapdFile().bytes;
  await writeFile(path, old, { mode: 0o644 });
  await rejectsKeyFileError(() => generateKeyFile(path), path, /already exists.*--force/);
  assert.equal(new Uint8Array(await readFile(path)), old);

  const keys = await generateKeyFile(path, { force: true });
  const now = new Uint8Array(await readFile(path));
  assert.is(now.length, 64);
  assert.equal(now.slice(0, 32), keys.publicKey);
  assert.not.equal(now, old);
  assert.is(await mode(path), 0o600);
  assert.equal((await readdir(dir)).filter((f) => f.endsWith('.tmp')), [], 'no temporary file is left');
});

test('generateKeyFile into a missing directory fails with a KeyFileError', async () => {
  const path = join(dir, 'no-such-dir', 'x.keys');
  await rejectsKeyFileError(() => generateKeyFile(path), path, /cannot write keys file .*directory does not exist/);
});

test('readPublicKey returns the public key; a missing file is an error, not created', async () => {
  const path = fresh();
  const keys = await generateKeyFile(path);
  assert.equal(await readPublicKey(path), keys.publicKey);
  const missing = fresh();
  await rejectsKeyFileError(() => readPublicKey(missing), missing, /does not exist/);
  await assertMissing(missing);
});

async function assertMissing(path: string): Promise<void> {
  try {
    await stat(path);
  } catch {
    return;
  }
  assert.unreachable(`${path} should not exist`);
}

test('toHex is 64 uppercase hex digits; parseHexKey reads either case back', () => {
  const bytes = new Uint8Array(32).map((_, i) => i * 7 + 1);
  const hex = toHex(bytes);
  assert.match(hex, /^[0-9A-F]{64}$/);
  assert.equal(parseHexKey(hex), bytes);
  assert.equal(parseHexKey(hex.toLowerCase()), bytes);
  assert.equal(parseHexKey(` ${hex}\n`), bytes);
  assert.is(toHex(bytes.subarray(1, 3)), '080F');
});

test('parseHexKey rejects a wrong length or non-hex characters with a clear message', () => {
  assert.throws(() => parseHexKey('ABC', '--relay-key'), /--relay-key must be 64 hex digits; got 3/);
  assert.throws(() => parseHexKey('G'.repeat(64)), /key must be 64 hex digits .* other characters/);
  assert.throws(() => parseHexKey('0x' + '0'.repeat(62)), /other characters/);
});

test.run();
