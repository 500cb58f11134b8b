import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseDuration } from '../../../src/companion/commands/serve';
import { tooDeep } from '../../../src/companion/rpc/params';
import { rawMember } from '../../../src/companion/rpc/wsConnection';
import {
  isAlive,
  readCompanionInfo,
  removeCompanionInfo,
  runtimeDir,
  stateDir,
  writeCompanionInfo,
} from '../../../src/companion/runtime';
import { tempDir } from '../../helpers/tmp';

describe('companion wire helpers', () => {
  it('rawMember: the text of a top-level member as written, the last one when repeated', () => {
    assert.equal(rawMember('{"id":1e308}', 'id'), '1e308');
    assert.equal(rawMember(' { "a" : [1,{"id":2}] , "id" : -0 } ', 'id'), '-0');
    assert.equal(rawMember('{"id":"x","id":12345678901234567890}', 'id'), '12345678901234567890');
    assert.equal(rawMember('{"\\u0069d":"esc\\"aped","b":{}}', 'id'), '"esc\\"aped"');
    assert.equal(rawMember('{"params":{"id":3},"method":"m"}', 'id'), undefined);
    assert.equal(rawMember('{}', 'id'), undefined);
    assert.equal(rawMember('{"s":"}]\\\\","id":[1,[2]]}', 'id'), '[1,[2]]');
  });

  it('tooDeep: iterative, so a deep value cannot overflow the stack', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    assert.equal(tooDeep(deep), true);
    assert.equal(tooDeep({ a: { b: [1, 2, { c: 3 }] } }), false);
    assert.equal(tooDeep('text'), false);
  });

  it('parseDuration: 10m, 90s, 1h, 500ms, a bare number of seconds, 0', () => {
    assert.equal(parseDuration('10m'), 600_000);
    assert.equal(parseDuration('90s'), 90_000);
    assert.equal(parseDuration('1h'), 3_600_000);
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('30'), 30_000);
    assert.equal(parseDuration('0'), 0);
    assert.throws(() => parseDuration('soon'), /--idle-timeout must look like/);
  });
});

describe('companion runtime files', () => {
  it('folders: the test variables first, then XDG, then the home fallbacks', () => {
    assert.equal(runtimeDir({ INFRA_SANDBOX_RUNTIME_DIR: '/t/run', XDG_RUNTIME_DIR: '/run/user/1' }), '/t/run');
    assert.equal(runtimeDir({ XDG_RUNTIME_DIR: '/run/user/1' }), '/run/user/1/infra-sandbox');
    assert.match(runtimeDir({}), /\/\.cache\/infra-sandbox\/run$/);
    assert.equal(stateDir({ XDG_STATE_HOME: '/s' }), '/s/infra-sandbox');
    assert.match(stateDir({}), /\/\.local\/state\/infra-sandbox$/);
  });

  it('writes companion.json and companion.env 0600 in a 0700 folder; removes them only for their own pid', () => {
    const dir = join(tempDir('runtime'), 'nested', 'run');
    const info = {
      port: 4242,
      pid: process.pid,
      token: 'ab'.repeat(32),
      version: '1.0.0',
      startedAt: new Date().toISOString(),
    };
    writeCompanionInfo(info, dir);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(join(dir, 'companion.json')).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'companion.env')).mode & 0o777, 0o600);
    assert.deepEqual(readCompanionInfo(dir), info);
    assert.equal(removeCompanionInfo(process.pid + 1, dir), false);
    assert.ok(existsSync(join(dir, 'companion.json')));
    assert.equal(removeCompanionInfo(process.pid, dir), true);
    assert.equal(existsSync(join(dir, 'companion.json')), false);
    assert.equal(existsSync(join(dir, 'companion.env')), false);
    assert.equal(readCompanionInfo(dir), undefined);
  });

  it('isAlive: this process yes, an exited one no', () => {
    assert.equal(isAlive(process.pid), true);
    const dead = spawnSync(process.execPath, ['-e', '']).pid as number;
    assert.equal(isAlive(dead), false);
    assert.equal(isAlive(0), false);
    assert.equal(isAlive(-1), false);
  });
});
