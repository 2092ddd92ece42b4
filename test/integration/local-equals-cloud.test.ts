/**
 * The local cloud runs what CDK synthesized: functions from their bundled assets with the template's wiring.
 * Break one function's environment wiring in a copy of the template and that route fails, like it would in AWS.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { target } from '../support/target';
import { apiError } from '../support/api';
import { startLocalCloud, type LocalCloud } from '../../localstack/cloud/local-cloud';
import { consoleLogger } from '../../localstack/cloud/console-logger';

/** The parts of the synthesized CloudFormation template this test reads. */
interface Template {
  Resources: Record<string, { Type: string; Properties: { Code: { S3Key: unknown }; Environment: { Variables: Record<string, string> } } }>;
}

async function postToken(restUrl: string, token: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${restUrl}/tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ tenant: 'wiring-check' }),
  });
  return { status: res.status, body: await res.json() };
}

describe('Local cloud: local equals cloud', () => {
  it('should run every function from the bundle CDK synthesized', async () => {
    const t = target();
    const health = await fetch(`${t.restUrl}/health`);
    expect(health.status).toBe(200);
    const { functions } = (await (await fetch(`${t.endpoints!.lambda}/_local/functions`)).json()) as {
      functions: Array<{ logicalId: string; codeDir: string; invocations: number }>;
    };
    const template = JSON.parse(readFileSync(join(t.assemblyDir!, 'Agentplane.template.json'), 'utf8')) as Template;
    const declared = Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function');
    expect(functions.map((f) => f.logicalId).sort()).toEqual(declared.map(([id]) => id).sort());
    for (const [logicalId, resource] of declared) {
      const fn = functions.find((f) => f.logicalId === logicalId)!;
      const assetHash = String(resource.Properties.Code.S3Key).replace(/\.zip$/, '');
      expect(fn.codeDir).toBe(join(t.assemblyDir!, `asset.${assetHash}`));
      expect(existsSync(join(fn.codeDir, 'index.mjs'))).toBe(true);
    }
    const healthFn = functions.find((f) => f.logicalId.startsWith('Health'))!;
    expect(healthFn.invocations).toBeGreaterThan(0);
  });

  describe('with a broken environment wiring in a copy of the template', () => {
    let broken: LocalCloud;
    let workDir: string;

    beforeAll(async () => {
      const t = target();
      workDir = mkdtempSync(join(tmpdir(), 'agentplane-wiring-'));
      const assemblyDir = join(workDir, 'cdk.out');
      cpSync(t.assemblyDir!, assemblyDir, { recursive: true });
      const templateFile = join(assemblyDir, 'Agentplane.template.json');
      const template = JSON.parse(readFileSync(templateFile, 'utf8')) as Template;
      const adminApi = Object.entries(template.Resources).find(([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith('AdminApi'));
      expect(adminApi).toBeDefined();
      // Point the admin API at a table that does not exist, as a typo in lib/ would.
      adminApi![1].Properties.Environment.Variables.TOKENS_TABLE = 'TokensTableThatDoesNotExist';
      writeFileSync(templateFile, JSON.stringify(template));
      broken = await startLocalCloud({
        assemblyDir,
        stackName: 'Agentplane',
        dataDir: join(workDir, 'data'),
        portBase: Number(process.env.AGENTPLANE_TEST_PORT_BASE ?? 18420) + 100,
        fresh: true,
        logger: consoleLogger('error'),
      });
    });

    afterAll(async () => {
      // Unset when beforeAll failed before starting it.
      await (broken as LocalCloud | undefined)?.stop();
      rmSync(workDir, { recursive: true, force: true });
    });

    it('should fail the affected route and leave the others working', async () => {
      const { restUrl, token } = broken.config;
      const health = await fetch(`${restUrl}/health`);
      expect(health.status).toBe(200);
      const res = await postToken(restUrl, token);
      expect(res.status).toBe(500);
      expect(apiError(res).code).toBe('internal_error');
      expect(JSON.stringify(res.body)).not.toMatch(/at .*\.m?js:\d+/);
    });

    it('should serve the same route from the unbroken template', async () => {
      const t = target();
      const res = await postToken(t.restUrl, t.token);
      expect(res.status).toBe(201);
    });
  });
});
