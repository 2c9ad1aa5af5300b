// Both key agreements must be crypto_box_beforenm exactly, and refuse what libsodium refuses.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type KeyAgreement, sodiumKeyAgreement } from '../src/crypto/key-agreement.ts';
import { agreesWithSodium, uncheckedNodeKeyAgreement } from '../src/crypto/key-agreement-node.ts';
import { loadSodium } from '../src/crypto/sodium.ts';

const sodium = await loadSodium();
const implementations: [string, KeyAgreement][] = [
  ['libsodium', sodiumKeyAgreement(sodium)],
  ['node', uncheckedNodeKeyAgreement(sodium)],
];

// Points of small order on Curve25519 (and one with the unused top bit set), whose shared secret
// is all zeros: libsodium's crypto_scalarmult refuses them.
const LOW_ORDER = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
  '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
].map((hex) => Uint8Array.from(Buffer.from(hex, 'hex')));

const hex = (bytes: Uint8Array | null) => (bytes ? Buffer.from(bytes).toString('hex') : 'null');

for (const [name, agreement] of implementations) {
  test(`${name}: sharedKey equals crypto_box_beforenm for imported and ephemeral secrets`, () => {
    for (let i = 0; i < 20; i++) {
      const mine = sodium.crypto_box_keypair();
      const theirs = sodium.crypto_box_keypair();
      // The top bit of a public key is ignored by X25519; both must ignore it the same way.
      const peer = theirs.publicKey.slice();
      if (i % 2 === 1) peer[31]! |= 0x80;
      const imported = agreement.importSecret(mine.privateKey);
      assert.is(hex(agreement.sharedKey(peer, imported)), hex(sodium.crypto_box_beforenm(peer, mine.privateKey)));

      const ephemeral = agreement.ephemeral();
      assert.is(ephemeral.publicKey.length, 32);
      const fromTheirSide = sodium.crypto_box_beforenm(ephemeral.publicKey, theirs.privateKey);
      assert.is(hex(agreement.sharedKey(theirs.publicKey, ephemeral.secret)), hex(fromTheirSide));
    }
  });

  test(`${name}: low-order and wrong-size public keys give null`, () => {
    const secret = agreement.importSecret(sodium.crypto_box_keypair().privateKey);
    for (const point of LOW_ORDER) {
      assert.is(agreement.sharedKey(point, secret), null, hex(point));
    }
    assert.is(agreement.sharedKey(new Uint8Array(31), secret), null);
    assert.is(agreement.sharedKey(new Uint8Array(33).fill(9), secret), null);
  });

  test(`${name}: ephemeral keypairs differ`, () => {
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) seen.add(hex(agreement.ephemeral().publicKey));
    assert.is(seen.size, 50);
  });
}

test('libsodium: forget() wipes an ephemeral secret, and an imported one is a copy', () => {
  const agreement = sodiumKeyAgreement(sodium);
  const ephemeral = agreement.ephemeral();
  agreement.forget(ephemeral.secret);
  assert.ok((ephemeral.secret as unknown as Uint8Array).every((b) => b === 0));
  const mine = sodium.crypto_box_keypair().privateKey;
  const before = [...mine];
  agreement.forget(agreement.importSecret(mine));
  assert.equal([...mine], before, "the caller's key is untouched");
});

test('node: a secret key of the wrong size is refused', () => {
  assert.throws(() => uncheckedNodeKeyAgreement(sodium).importSecret(new Uint8Array(31)), /32 bytes/);
});

test("the start-up check accepts Node's agreement and refuses one that computes something else", () => {
  assert.ok(agreesWithSodium(uncheckedNodeKeyAgreement(sodium), sodium));
  const wrong = uncheckedNodeKeyAgreement(sodium);
  const broken: KeyAgreement = { ...wrong, ephemeral: () => ({ ...wrong.ephemeral(), publicKey: new Uint8Array(32).fill(9) }) };
  assert.not.ok(agreesWithSodium(broken, sodium));
});

test.run();
