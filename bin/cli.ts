/**
 * `agentplane` CLI. Finds its target like the tests do: AGENTPLANE_REST_URL + AGENTPLANE_TOKEN, or the local
 * cloud's `.agentplane/local.json`.
 */
import { Command } from 'commander';
import { readFileSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { hashToken, newToken, tokenId, TENANT_PATTERN } from '../lambdas/shared/auth/tokens';

interface Target {
  restUrl: string;
  token: string;
}

function loadTarget(): Target {
  if (process.env.AGENTPLANE_REST_URL) return { restUrl: process.env.AGENTPLANE_REST_URL, token: process.env.AGENTPLANE_TOKEN ?? '' };
  const file = resolve(process.env.AGENTPLANE_LOCAL_JSON ?? '.agentplane/local.json');
  if (!existsSync(file)) throw new Error(`No target: set AGENTPLANE_REST_URL and AGENTPLANE_TOKEN, or start the local cloud (npm start) to write ${file}`);
  const config = JSON.parse(readFileSync(file, 'utf8')) as Target;
  return { restUrl: config.restUrl, token: process.env.AGENTPLANE_TOKEN ?? config.token };
}

async function api(method: string, path: string, body?: unknown): Promise<any> {
  const target = loadTarget();
  const response = await fetch(`${target.restUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${target.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  const parsed = text ? JSON.parse(text) : undefined;
  if (!response.ok) {
    const problems = parsed?.error?.details?.problems?.map((p: { path: string; message: string }) => `\n  ${p.path}: ${p.message}`).join('') ?? '';
    throw new Error(`${response.status} ${parsed?.error?.code ?? ''}: ${parsed?.error?.message ?? text}${problems}`);
  }
  return parsed;
}

const program = new Command().name('agentplane').description('Agentplane control plane CLI');

const tokens = program.command('tokens').description('API tokens (admin)');
tokens
  .command('create')
  .description('create a token for a tenant; the token is printed once')
  .requiredOption('--tenant <tenant>', 'tenant the token belongs to')
  .option('--admin', 'an admin token (can create tokens and set quotas)', false)
  .option('--name <name>', 'a label for the token')
  .option('--direct-table <table>', 'bootstrap: write straight to this DynamoDB tokens table with your AWS credentials (no API call)')
  .action(async (opts: { tenant: string; admin: boolean; name?: string; directTable?: string }) => {
    if (!TENANT_PATTERN.test(opts.tenant)) throw new Error('tenant must be 1-63 lowercase letters, digits or dashes');
    if (opts.directTable) {
      const token = newToken();
      const hash = hashToken(token);
      const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({}));
      await ddb.send(
        new PutCommand({
          TableName: opts.directTable,
          Item: { tokenHash: hash, tokenId: tokenId(hash), tenant: opts.tenant, admin: opts.admin, name: opts.name, createdAt: new Date().toISOString(), createdBy: 'cli-bootstrap' },
          ConditionExpression: 'attribute_not_exists(tokenHash)',
        }),
      );
      process.stdout.write(`${JSON.stringify({ token, tenant: opts.tenant, admin: opts.admin }, null, 2)}\n`);
      return;
    }
    const created = await api('POST', '/tokens', { tenant: opts.tenant, admin: opts.admin, name: opts.name });
    process.stdout.write(`${JSON.stringify(created, null, 2)}\n`);
  });

program
  .command('health')
  .description('check that the API answers')
  .action(async () => {
    const { restUrl } = loadTarget();
    const response = await fetch(`${restUrl}/health`);
    process.stdout.write(`${response.status} ${await response.text()}\n`);
  });

program.parseAsync(process.argv).catch((error: Error) => {
  process.stderr.write(`agentplane: ${error.message}\n`);
  process.exit(1);
});
