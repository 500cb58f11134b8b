import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeAddress, normalizeHostName } from '../../../src/core/guard/address';

describe('address spellings', () => {
  // Every way glibc's resolver reads 192.168.1.202 (checked against getaddrinfo with AI_NUMERICHOST).
  const spellings: [string, string][] = [
    ['192.168.1.202', '192.168.1.202'],
    ['3232235978', '192.168.1.202'],
    ['0300.0250.0001.0312', '192.168.1.202'],
    ['0300.0250.1.202', '192.168.1.202'],
    ['0xC0A801CA', '192.168.1.202'],
    ['0XC0A801CA', '192.168.1.202'],
    ['0x00000000c0a801ca', '192.168.1.202'],
    ['0xc0.0xa8.1.0xca', '192.168.1.202'],
    ['0xC0.0250.1.202', '192.168.1.202'],
    ['192.168.0x1ca', '192.168.1.202'],
    ['0300.0250.0x1ca', '192.168.1.202'],
    ['192.11010506', '192.168.1.202'],
    ['192.168.1.202.', '192.168.1.202'],
    ['  192.168.1.202 ', '192.168.1.202'],
    ['::ffff:192.168.1.202', '192.168.1.202'],
    ['::FFFF:C0A8:1CA', '192.168.1.202'],
    ['0:0:0:0:0:ffff:c0a8:01ca', '192.168.1.202'],
    ['[::ffff:192.168.1.202]', '192.168.1.202'],
  ];
  for (const [input, canonical] of spellings) {
    it(`${JSON.stringify(input)} is ${canonical}`, () => {
      assert.equal(normalizeAddress(input), canonical);
    });
  }

  it('reads short IPv4 forms as inet_aton does: the last part fills the remaining bytes', () => {
    assert.equal(normalizeAddress('192.168.1'), '192.168.0.1');
    assert.equal(normalizeAddress('192.168'), '192.0.0.168');
    assert.equal(normalizeAddress('10.1'), '10.0.0.1');
    assert.equal(normalizeAddress('127.1'), '127.0.0.1');
    assert.equal(normalizeAddress('0'), '0.0.0.0');
    assert.equal(normalizeAddress('4294967295'), '255.255.255.255');
  });

  it('writes IPv6 in RFC 5952 form: lower case, longest zero run compressed', () => {
    assert.equal(normalizeAddress('2001:DB8:0:0:0:0:0:1'), '2001:db8::1');
    assert.equal(normalizeAddress('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1');
    assert.equal(normalizeAddress('2001:0db8:0001:0000:0000:0000:0000:0010'), '2001:db8:1::10');
    assert.equal(normalizeAddress('[2001:db8:1::10]'), '2001:db8:1::10');
    assert.equal(normalizeAddress('::1'), '::1');
  });

  it('drops zone ids, plain or url-encoded', () => {
    assert.equal(normalizeAddress('fe80::1%eth0'), 'fe80::1');
    assert.equal(normalizeAddress('fe80::1%25eth0'), 'fe80::1');
    assert.equal(normalizeAddress('[FE80::1%25en0]'), 'fe80::1');
  });

  it('leaves names as names', () => {
    for (const name of [
      'pi2.lan',
      '1.2.3.4.nip.io',
      '0x',
      '0x.1.1.1',
      '999.1.1.1',
      '08.1.1.1',
      '4294967296',
      '0x100.1.1.1',
      '192.168.65536',
      '1.2.3.4x',
      'db',
      'cafe',
      'dead::beef::1',
      '',
      '[pi2.lan]',
    ]) {
      assert.equal(normalizeAddress(name), undefined, name);
    }
  });

  it('normalises host names: lower case, trailing dots gone', () => {
    assert.equal(normalizeHostName('DB.Corp.Example.'), 'db.corp.example');
    assert.equal(normalizeHostName(' pi2.lan.. '), 'pi2.lan');
  });
});
