// The relay's long-term keypair, stored the way tox-bootstrapd stores it (PROTOCOL.md §10):
// a file of 64 raw bytes, public key[32] ‖ secret key[32], mode 0600.
//
// Reading. tox-bootstrapd reads the first 64 bytes, ignores any further bytes and never checks the
// public key against the secret key (its TCP relay derives the public key from the secret key; its
// DHT uses the stored one). toxrelay:
//   - < 64 bytes          → KeyFileError (tox-bootstrapd exits too);
//   - > 64 bytes          → accepted, the extra bytes are ignored and the file is left as it is, so
//                           every file tox-bootstrapd runs with runs here too; a line for the
//                           operator is returned in `warnings` (this module does not log);
//   - pk ≠ derive(sk)     → KeyFileError. A file tox-bootstrapd wrote always matches; one that does
//                           not is damaged or is not a keys file, and serving with it would advertise
//                           a key the relay cannot answer for. The check is also what makes accepting
//                           trailing bytes safe: an arbitrary file passes it with probability 2^-256.
// Nothing here ever overwrites an existing file except `generateKeyFile(path, { force: true })`.
import { randomBytes } from 'node:crypto';
import { link, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import sodium from 'libsodium-wrappers-sumo';

export const KEY_BYTES = 32;
export const KEYS_FILE_BYTES = 2 * KEY_BYTES;

export interface KeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

export interface LoadedKeys extends KeyPair {
  /** True when the file did not exist and a fresh keypair was written to it. */
  created: boolean;
  /** Things the operator should hear about that did not stop loading (one line each). */
  warnings: string[];
}

/** A keys file that exists but cannot be used; the message is one line naming the file. */
export class KeyFileError extends Error {
  override name = 'KeyFileError';
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

/** Reads the keys file at `path`, or creates it with a fresh keypair when there is no such file. */
export async function loadOrCreateKeys(path: string): Promise<LoadedKeys> {
  const existing = await readKeyFile(path);
  if (existing) return { ...existing, created: false };
  const keys = await newKeyPair();
  try {
    await writeKeyFile(path, keys, false);
  } catch (err) {
    // Someone else created it between our read and our write: use theirs, never clobber it.
    if (errorCode(err) === 'EEXIST') return loadOrCreateKeys(path);
    throw err;
  }
  return { ...keys, created: true, warnings: [] };
}

/** `toxrelay keygen FILE`: writes a fresh keypair; an existing file is replaced only with force. */
export async function generateKeyFile(path: string, opts: { force?: boolean } = {}): Promise<KeyPair> {
  const keys = await newKeyPair();
  try {
    await writeKeyFile(path, keys, opts.force === true);
  } catch (err) {
    if (errorCode(err) === 'EEXIST') {
      throw new KeyFileError(path, `keys file ${path} already exists; not overwriting it (use --force to replace it)`);
    }
    throw err;
  }
  return keys;
}

/** `toxrelay pubkey FILE`: the public key of an existing, valid keys file. */
export async function readPublicKey(path: string): Promise<Uint8Array> {
  const keys = await readKeyFile(path);
  if (!keys) throw new KeyFileError(path, `keys file ${path} does not exist`);
  return keys.publicKey;
}

/** Uppercase hex, as tox-bootstrapd prints keys. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex').toUpperCase();
}

/**
 * Parses a 32-byte key written as 64 hex digits (either case; surrounding whitespace is ignored).
 * `what` names the value in the error, e.g. "--relay-key".
 */
export function parseHexKey(text: string, what = 'key'): Uint8Array {
  const hex = text.trim();
  if (!/^[0-9a-fA-F]*$/.test(hex)) {
    throw new Error(`${what} must be ${2 * KEY_BYTES} hex digits (0-9, A-F); '${text}' has other characters`);
  }
  if (hex.length !== 2 * KEY_BYTES) {
    throw new Error(`${what} must be ${2 * KEY_BYTES} hex digits; got ${hex.length}`);
  }
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

// --- internals ---

async function newKeyPair(): Promise<KeyPair> {
  await sodium.ready;
  const kp = sodium.crypto_box_keypair();
  return { publicKey: kp.publicKey, secretKey: kp.privateKey };
}

/** The file's keys, or undefined if there is no file at `path`. */
async function readKeyFile(path: string): Promise<Omit<LoadedKeys, 'created'> | undefined> {
  const bytes = new Uint8Array(KEYS_FILE_BYTES);
  let size: number;
  let got = 0;
  try {
    const fh = await open(path, 'r');
    try {
      const st = await fh.stat();
      if (st.isDirectory()) throw new KeyFileError(path, `keys file ${path} is a directory`);
      if (!st.isFile()) throw new KeyFileError(path, `keys file ${path} is not a regular file`);
      size = st.size;
      while (got < KEYS_FILE_BYTES) {
        const { bytesRead } = await fh.read(bytes, got, KEYS_FILE_BYTES - got, got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
    } finally {
      await fh.close();
    }
  } catch (err) {
    if (err instanceof KeyFileError) throw err;
    const code = errorCode(err);
    if (code === 'ENOENT') return undefined;
    throw new KeyFileError(path, `keys file ${path} cannot be read: ${describeFsError(err)}`);
  }
  if (got < KEYS_FILE_BYTES) {
    throw new KeyFileError(
      path,
      `keys file ${path} is ${got} bytes; a tox-bootstrapd keys file is ${KEYS_FILE_BYTES} bytes (public key ‖ secret key)`,
    );
  }
  const publicKey = bytes.slice(0, KEY_BYTES);
  const secretKey = bytes.slice(KEY_BYTES);
  await sodium.ready;
  const derived = sodium.crypto_scalarmult_base(secretKey);
  if (!sodium.memcmp(derived, publicKey)) {
    throw new KeyFileError(
      path,
      `keys file ${path} is damaged: its public key (bytes 1-32) does not match its secret key (bytes 33-64)`,
    );
  }
  const warnings =
    size > KEYS_FILE_BYTES
      ? [`keys file ${path} is ${size} bytes; using the first ${KEYS_FILE_BYTES} and ignoring the rest, as tox-bootstrapd does`]
      : [];
  return { publicKey, secretKey, warnings };
}

/**
 * Writes pk ‖ sk to a temporary file (0600) beside `path`, then puts it in place in one step:
 * link() when the file must not exist yet (fails with EEXIST instead of clobbering), rename() when
 * it may be replaced. Readers therefore never see a partly written keys file.
 */
async function writeKeyFile(path: string, keys: KeyPair, replace: boolean): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const data = new Uint8Array(KEYS_FILE_BYTES);
  data.set(keys.publicKey, 0);
  data.set(keys.secretKey, KEY_BYTES);
  try {
    const fh = await open(tmp, 'wx', 0o600);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (replace) {
      await rename(tmp, path);
    } else {
      await link(tmp, path);
    }
  } catch (err) {
    if (errorCode(err) === 'EEXIST') throw err;
    throw new KeyFileError(path, `cannot write keys file ${path}: ${describeFsError(err)}`);
  } finally {
    await unlink(tmp).catch(() => {});
  }
}

function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : undefined;
}

function describeFsError(err: unknown): string {
  switch (errorCode(err)) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a directory';
    case 'ENOTDIR':
      return 'a part of the path is not a directory';
    case 'ENOENT':
      return 'its directory does not exist';
    case 'EROFS':
      return 'read-only file system';
    case 'ENOSPC':
      return 'no space left on device';
    default:
      return err instanceof Error ? err.message : String(err);
  }
}
