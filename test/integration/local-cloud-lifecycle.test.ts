/**
 * The local cloud's life cycle: data persists across restarts, an execution in flight when it stopped is reported
 * failed (through EventBridge, to the finalizer) at the next start, a port in use is a clear error, and Ctrl-C
 * stops every child process.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CreateStateMachineCommand, DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { DynamoDBClient, GetItemCommand, PutItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { target } from '../support/target';
import { startLocalCloud, type LocalCloud, type LocalCloudConfig } from '../../localstack/cloud/local-cloud';
import { consoleLogger } from '../../localstack/cloud/console-logger';

const BASE = Number(process.env.AGENTPLANE_TEST_PORT_BASE ?? 18420);
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const workDir = mkdtempSync(join(tmpdir(), 'agentplane-lifecycle-'));

afterAll(() => { rmSync(workDir, { recursive: true, force: true }); });

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let delay = 20;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 500);
  }
}

function start(dataDir: string, portBase: number, fresh: boolean): Promise<LocalCloud> {
  return startLocalCloud({ assemblyDir: target().assemblyDir!, stackName: 'Agentplane', dataDir, portBase, fresh, logger: consoleLogger('error') });
}

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('Local cloud: life cycle', () => {
  it('should keep data across a restart and fail the execution that was in flight, with the reason', async () => {
    const dataDir = join(workDir, 'restart');
    const portBase = BASE + 200;
    let cloud = await start(dataDir, portBase, true);
    const { config } = cloud;
    const runsTable = Object.entries(config.resources.tables).find(([id]) => id.startsWith('TablesRuns'))![1];
    const delayFn = Object.entries(config.resources.functions).find(([id]) => id.startsWith('AgentsDiagnosticsDelay'))![1];
    const ddb = new DynamoDBClient({ endpoint: config.endpoints.dynamodb, region: config.region, credentials });
    const sfn = new SFNClient({ endpoint: config.endpoints.stepfunctions, region: config.region, credentials });
    const runId = `run-restart-${Date.now()}`;
    try {
      await ddb.send(new PutItemCommand({ TableName: runsTable, Item: { pk: { S: `RUN#${runId}` }, sk: { S: 'META' }, runId: { S: runId }, tenant: { S: 'lifecycle' }, status: { S: 'RUNNING' }, createdAt: { S: new Date().toISOString() } } }));
      const { stateMachineArn } = await sfn.send(
        new CreateStateMachineCommand({
          name: 'agentplane-restart-check',
          roleArn: 'arn:aws:iam::000000000000:role/local',
          definition: JSON.stringify({
            StartAt: 'slow',
            States: {
              slow: {
                Type: 'Task',
                Resource: 'arn:aws:states:::lambda:invoke',
                Parameters: {
                  FunctionName: delayFn,
                  Payload: { runId, stepId: 'slow', items: [{ key: 'a' }], workspace: { bucket: 'unused', prefix: `runs/${runId}/` }, config: { delayMs: 600_000 } },
                },
                End: true,
              },
            },
          }),
        }),
      );
      const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn, name: runId, input: '{}' }));
      const running = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      expect(running.status).toBe('RUNNING');
    } finally {
      await cloud.stop();
    }

    cloud = await start(dataDir, portBase, false);
    try {
      const again = cloud.config;
      expect(again.token).toBe(config.token);
      const sfn2 = new SFNClient({ endpoint: again.endpoints.stepfunctions, region: again.region, credentials });
      const execution = await sfn2.send(
        new DescribeExecutionCommand({ executionArn: `arn:aws:states:${again.region}:000000000000:execution:agentplane-restart-check:${runId}` }),
      );
      expect(execution.status).toBe('FAILED');
      expect(execution.error).toBe('States.LocalCloudRestart');
      expect(execution.cause).toMatch(/stopped/i);
      // The status change went through the template's EventBridge rule to the finalizer, which recorded it.
      const ddb2 = new DynamoDBClient({ endpoint: again.endpoints.dynamodb, region: again.region, credentials });
      const recorded = await until('the finalizer to record the failure', async () => {
        const { Item } = await ddb2.send(new GetItemCommand({ TableName: runsTable, Key: { pk: { S: `RUN#${runId}` }, sk: { S: 'META' } } }));
        // An attribute is there once something wrote it.
        const item: Partial<Record<string, AttributeValue>> | undefined = Item;
        return item?.status?.S === 'FAILED' ? item : undefined;
      });
      expect(recorded.execution!.M!.status.S).toBe('FAILED');
      expect(recorded.execution!.M!.error.S).toBe('States.LocalCloudRestart');
      const health = await fetch(`${again.restUrl}/health`);
      expect(health.status).toBe(200);
    } finally {
      await cloud.stop();
    }
  });

  it('should refuse to start on a port in use with a message naming it', async () => {
    const portBase = BASE + 300;
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(portBase + 3, '127.0.0.1', () => { r(); }));
    try {
      await expect(start(join(workDir, 'ports'), portBase, true)).rejects.toThrow(new RegExp(`Port ${portBase + 3} \\(s3\\).*in use`));
    } finally {
      blocker.close();
    }
  });

  it('should stop every child process on Ctrl-C', async () => {
    const dataDir = join(workDir, 'sigint');
    const child = spawn(
      process.execPath,
      [resolve('node_modules/tsx/dist/cli.mjs'), 'localstack/start.ts', '--fresh', '--quiet', '--no-sample', '--assembly', target().assemblyDir!, '--data-dir', dataDir, '--port-base', String(BASE + 400)],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += String(d)));
    child.stderr.on('data', (d: Buffer) => (output += String(d)));
    await until('the local cloud to be ready', async () => {
      return output.includes('AGENTPLANE_READY') ? true : undefined;
    }, 120_000).catch((error: unknown) => {
      child.kill('SIGKILL');
      throw new Error(`${(error as Error).message}\n${output}`);
    });
    const config = JSON.parse(readFileSync(join(dataDir, 'local.json'), 'utf8')) as LocalCloudConfig;
    expect(isAlive(config.processes.dynamodb)).toBe(true);
    expect(isAlive(config.processes.s3)).toBe(true);
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => { r(code); }));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    await until('child processes to end', async () => (!isAlive(config.processes.dynamodb) && !isAlive(config.processes.s3) ? true : undefined), 15_000);
    expect(existsSync(join(dataDir, 'local.json'))).toBe(false);
  });
});
