// What the per-address cap counts by.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { normalizeAddress } from '../src/relay/wire.ts';

test('IPv4, also when mapped into IPv6, counts by address', () => {
  assert.is(normalizeAddress('203.0.113.9'), '203.0.113.9');
  assert.is(normalizeAddress('::ffff:203.0.113.9'), '203.0.113.9');
});

test('IPv6 counts by /64, whatever the notation', () => {
  const key = normalizeAddress('2001:db8:1:2:3:4:5:6');
  assert.is(key, '2001:db8:1:2::/64');
  assert.is(normalizeAddress('2001:db8:1:2::9'), key);
  assert.is(normalizeAddress('2001:0db8:0001:0002:ffff::1'), key);
  assert.is.not(normalizeAddress('2001:db8:1:3::1'), key);
  assert.is(normalizeAddress('::1'), '0:0:0:0::/64');
  assert.is(normalizeAddress('fe80::1'), 'fe80:0:0:0::/64');
});

test.run();
