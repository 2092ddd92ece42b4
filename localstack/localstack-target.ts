/**
 * After `cdklocal deploy` (or `cdk deploy` to AWS): turns the stack outputs into a target file of the same shape as
 * the local cloud's local.json, minting a bootstrap admin token straight into the tokens table.
 * Usage: tsx localstack/localstack-target.ts OUTPUTS.json TARGET.json
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { hashToken, newToken, tokenId } from '../lambdas/core/auth/tokens';

const [outputsFile, targetFile] = process.argv.slice(2);
if (!outputsFile || !targetFile) throw new Error('usage: localstack-target.ts OUTPUTS.json TARGET.json');
const outputs = (JSON.parse(readFileSync(outputsFile, 'utf8')) as { Agentplane: Record<string, string> }).Agentplane;
const token = newToken();
const hash = hashToken(token);
await new DynamoDBClient({}).send(
  new PutItemCommand({
    TableName: outputs.TokensTableName,
    Item: {
      tokenHash: { S: hash },
      tokenId: { S: tokenId(hash) },
      tenant: { S: 'dev' },
      admin: { BOOL: true },
      name: { S: 'bootstrap admin' },
      createdAt: { S: new Date().toISOString() },
    },
  }),
);
const restUrl = outputs.RestApiUrl.replace(/\/$/, '');
writeFileSync(
  targetFile,
  JSON.stringify({ restUrl, wsUrl: outputs.WebSocketUrl, dashboardUrl: '', token, region: process.env.AWS_DEFAULT_REGION ?? 'us-east-1' }, null, 2) + '\n',
);
process.stdout.write(`wrote ${targetFile}\n`);
