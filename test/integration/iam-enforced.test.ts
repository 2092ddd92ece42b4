/**
 * The local cloud enforces IAM as AWS does: in a copy of the template, a grant removed from one role fails the
 * route that needed it with AccessDenied, a Deny added beside an Allow wins, and an API Gateway integration whose
 * `AWS::Lambda::Permission` is gone is refused. The unmodified routes keep working on the same cloud.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, GetItemCommand, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { target } from '../support/target';
import { startLocalCloud, type LocalCloud } from '../../localstack/cloud/local-cloud';
import { consoleLogger } from '../../localstack/cloud/console-logger';

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}
interface Template {
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
}

function policyOf(template: Template, rolePrefix: string): { id: string; statements: Statement[] } {
  const found = Object.entries(template.Resources).find(
    ([id, r]) => r.Type === 'AWS::IAM::Policy' && id.startsWith(`${rolePrefix}RoleDefaultPolicy`),
  );
  if (!found) throw new Error(`no default policy for ${rolePrefix}`);
  return { id: found[0], statements: (found[1].Properties.PolicyDocument as { Statement: Statement[] }).Statement };
}

const actionsOf = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);

async function call(restUrl: string, token: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${restUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, text };
}

describe('Local cloud: IAM enforced', () => {
  let cloud: LocalCloud;
  let workDir: string;

  beforeAll(async () => {
    const t = target();
    workDir = mkdtempSync(join(tmpdir(), 'agentplane-iam-'));
    const assemblyDir = join(workDir, 'cdk.out');
    cpSync(t.assemblyDir!, assemblyDir, { recursive: true });
    const templateFile = join(assemblyDir, 'Agentplane.template.json');
    const template = JSON.parse(readFileSync(templateFile, 'utf8')) as Template;

    // 1. The admin API loses dynamodb:PutItem on the tokens table (the rest of its grant stays).
    const admin = policyOf(template, 'AdminApi');
    const tokensGrant = admin.statements.find((s) => actionsOf(s).includes('dynamodb:PutItem'));
    expect(tokensGrant).toBeDefined();
    tokensGrant!.Action = actionsOf(tokensGrant!).filter((a) => a !== 'dynamodb:PutItem');

    // 2. The workflows API keeps its Allow on the workflows table and gets an explicit Deny of Query beside it.
    const workflows = policyOf(template, 'WorkflowsApi');
    workflows.statements.push({ Effect: 'Deny', Action: 'dynamodb:Query', Resource: '*' });

    // 3. API Gateway loses its permission to invoke the health function.
    template.Resources = Object.fromEntries(
      Object.entries(template.Resources).filter(([, r]) => r.Type !== 'AWS::Lambda::Permission' || !JSON.stringify(r.Properties.FunctionName).includes('"Health')),
    );
    writeFileSync(templateFile, JSON.stringify(template));
    cloud = await startLocalCloud({
      assemblyDir,
      stackName: 'Agentplane',
      dataDir: join(workDir, 'data'),
      portBase: Number(process.env.AGENTPLANE_TEST_PORT_BASE ?? 18420) + 600,
      fresh: true,
      logger: consoleLogger('error'),
    });
  });

  afterAll(async () => {
    await (cloud as LocalCloud | undefined)?.stop();
    rmSync(workDir, { recursive: true, force: true });
  });

  it('should fail the route whose grant was removed with AccessDenied, and record the refusal', async () => {
    const { restUrl, token } = cloud.config;
    const res = await call(restUrl, token, 'POST', '/tokens', { tenant: 'iam-check' });
    expect(res.status).toBe(500);
    expect(res.text).not.toContain('AccessDenied');
    const ledger = cloud.iam.ledgerEntries();
    const adminRole = Object.keys(ledger).find((role) => role.startsWith('AdminApiRole'));
    expect(adminRole).toBeDefined();
    const tokensTable = Object.entries(cloud.config.resources.tables).find(([id]) => id.startsWith('TablesTokens'))![1];
    expect(ledger[adminRole!]['DENIED dynamodb:PutItem']).toEqual([expect.stringMatching(new RegExp(`:table/${tokensTable}$`))]);
    const log = readFileSync(join(workDir, 'data', 'logs', `${Object.keys(cloud.config.resources.functions).find((f) => f.startsWith('AdminApi'))!}.log`), 'utf8');
    expect(log).toMatch(/AccessDeniedException[\s\S]*not authorized to perform: dynamodb:PutItem/);
  });

  it('should let an explicit Deny win over the Allow beside it', async () => {
    const { restUrl, token } = cloud.config;
    const res = await call(restUrl, token, 'GET', '/workflows');
    expect(res.status).toBe(500);
    const ledger = cloud.iam.ledgerEntries();
    const role = Object.keys(ledger).find((r) => r.startsWith('WorkflowsApiRole'));
    expect(ledger[role!]['DENIED dynamodb:Query']).toBeDefined();
  });

  it('should refuse an integration whose Lambda::Permission was removed, and serve the routes that keep theirs', async () => {
    const { restUrl, token } = cloud.config;
    const health = await fetch(`${restUrl}/health`);
    expect(health.status).toBe(500);
    // The stack's DEFAULT_5XX gateway response gives the API's error shape.
    expect(await health.json()).toEqual({ error: { code: 'API_CONFIGURATION_ERROR', message: 'Internal server error' } });
    const agents = await call(restUrl, token, 'GET', '/agents');
    expect(agents.status).toBe(200);
  });

  it('should refuse a role what its policies do not allow over the SDK, and let the administrator through', async () => {
    const healthFn = Object.keys(cloud.config.resources.functions).find((f) => f.startsWith('Health'))!;
    const roleArn = cloud.lambda.roleOf(cloud.config.resources.functions[healthFn])!;
    const asHealth = new DynamoDBClient({
      endpoint: cloud.config.endpoints.dynamodb,
      region: cloud.config.region,
      credentials: { accessKeyId: cloud.iam.accessKeyFor(roleArn), secretAccessKey: 'local' },
    });
    const tokensTable = Object.entries(cloud.config.resources.tables).find(([id]) => id.startsWith('TablesTokens'))![1];
    await expect(asHealth.send(new GetItemCommand({ TableName: tokensTable, Key: { tokenHash: { S: 'x' } } }))).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: expect.stringContaining('is not authorized to perform: dynamodb:GetItem') as unknown,
    });
    asHealth.destroy();
    const asAdmin = new DynamoDBClient({ endpoint: cloud.config.endpoints.dynamodb, region: cloud.config.region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    const tables = await asAdmin.send(new ListTablesCommand({}));
    expect(tables.TableNames).toContain(tokensTable);
    asAdmin.destroy();
  });
});
