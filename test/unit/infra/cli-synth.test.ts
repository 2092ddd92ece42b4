/**
 * `cdk deploy` starts with the CDK CLI's synth, which always sets a region (and, with credentials, an account):
 * the in-process synth of the other tests does not prove it. This runs the real CLI as a user would, then
 * cfn-lint (where installed) on the template it wrote.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../../..');
const hasCfnLint = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' }).status === 0;

describe('CDK CLI: cdk synth', () => {
  const out = mkdtempSync(join(tmpdir(), 'agentplane-synth-'));

  it('should synthesize with CDK_DEFAULT_ACCOUNT and CDK_DEFAULT_REGION set, cdk-nag clean', { timeout: 300_000 }, () => {
    const synth = spawnSync(join(ROOT, 'node_modules/.bin/cdk'), ['synth', '--quiet', '-o', out], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, CDK_DEFAULT_ACCOUNT: '123456789012', CDK_DEFAULT_REGION: 'eu-west-1', CI: 'true' },
    });
    expect(synth.status, `${synth.stdout}\n${synth.stderr}`).toBe(0);
    const template = JSON.parse(readFileSync(join(out, 'Agentplane.template.json'), 'utf8')) as { Resources: Record<string, unknown> };
    expect(Object.keys(template.Resources).length).toBeGreaterThan(100);
  });

  it.skipIf(!hasCfnLint)('should give cfn-lint no error on the synthesized template', { timeout: 120_000 }, () => {
    const lint = spawnSync('cfn-lint', ['--format', 'parseable', join(out, 'Agentplane.template.json')], { encoding: 'utf8' });
    // cfn-lint's exit code is a bit field: 2 errors, 4 warnings, 8 informational. Warnings are CDK's own DependsOn.
    const errors = lint.stdout.split('\n').filter((line) => /:E\d{4}:/.test(line));
    expect(errors, lint.stdout).toEqual([]);
    expect(lint.status! & 2, lint.stderr).toBe(0);
    rmSync(out, { recursive: true, force: true });
  });
});
