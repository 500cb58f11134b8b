import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../helpers/tmp';
import { describe, it } from 'node:test';
import { findConfigUpward } from '../../../src/core/config';

describe('findConfigUpward', () => {
  it('finds infra-sandbox.yaml in a parent folder', () => {
    const root = tempDir('find');
    writeFileSync(join(root, 'infra-sandbox.yaml'), 'version: 1\n');
    const deep = join(root, 'ansible', 'roles', 'base');
    mkdirSync(deep, { recursive: true });
    assert.equal(findConfigUpward(deep), join(root, 'infra-sandbox.yaml'));
  });

  it('returns undefined when no folder up to the root has one', () => {
    const root = tempDir('none');
    assert.equal(findConfigUpward(root), undefined);
  });
});
