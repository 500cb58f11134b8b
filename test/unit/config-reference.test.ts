import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

describe('README configuration reference', () => {
  it('matches the JSON Schema (regenerate with `node scripts/config-reference.mjs --write`)', async () => {
    const root = join(__dirname, '../..');
    const { readmeWithReference } = await import(join(root, 'scripts/config-reference.mjs'));
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const schema = JSON.parse(readFileSync(join(root, 'schema/infra-sandbox.schema.json'), 'utf8'));
    assert.equal(readme, readmeWithReference(readme, schema));
  });
});
