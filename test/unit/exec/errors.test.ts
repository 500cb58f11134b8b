import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { displayCommand, installHint, ProcessError, ToolMissingError } from '../../../src/core/exec';

describe('process errors', () => {
  it('quotes arguments for display so a log line reads back as the same argv', () => {
    assert.equal(
      displayCommand('ansible-playbook', ['-i', 'hosts.ini', '-e', 'msg=hello world', "it's"]),
      `ansible-playbook -i hosts.ini -e 'msg=hello world' 'it'\\''s'`,
    );
  });

  it('a missing tool exits 4 and says how to install it', () => {
    const err = new ToolMissingError('docker-compose', installHint('docker-compose'));
    assert.equal(err.exitCode, 4);
    assert.match(err.message, /docker-compose is not installed or not on PATH\. .*apt-get install -y docker-compose/);
  });

  it('a failed process shows the command, the exit code and the end of stderr', () => {
    const stderr = Array.from({ length: 30 }, (_, i) => `line ${i}`).join('\n');
    const err = new ProcessError('k3d cluster create lab', 1, undefined, stderr);
    assert.match(err.message, /^k3d cluster create lab exited with code 1:\nline 20\n/);
    assert.ok(!err.message.includes('line 19'));
  });
});
