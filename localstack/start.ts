/**
 * `npm start`: synthesizes the CDK app and stands its template up as the local cloud.
 *   --fresh              forget persisted data (.agentplane/) first
 *   --data-dir DIR       where data, logs and local.json live (default .agentplane)
 *   --port-base N        first of the fixed ports (default 4510; or AGENTPLANE_PORT_BASE)
 *   --assembly DIR       run an already synthesized cloud assembly instead of synthesizing
 *   --no-sample          do not run the sample COBOL migration once the cloud is up
 *   --no-iam             do not enforce IAM (for debugging; the least-privilege ledger still records); or AGENTPLANE_IAM=off
 * AGENTPLANE_ASYNC_RETRY_DELAYS_MS=1000,2000 sets the waits before the retries of an asynchronous invocation;
 * AGENTPLANE_ASYNC_THROTTLE_DELAYS_MS=100,2000 the first and longest waits after a throttled one;
 * AGENTPLANE_LAMBDA_ACCOUNT_CONCURRENCY=1000 the account's concurrent executions.
 */
import { parseArgs } from 'node:util';
import { join, resolve } from 'node:path';
import { mkdirSync } from 'node:fs';
import { startLocalCloud } from './cloud/local-cloud';
import { DEFAULT_PORT_BASE } from './cloud/ports';
import { consoleLogger } from './cloud/console-logger';

const { values } = parseArgs({
  options: {
    fresh: { type: 'boolean', default: false },
    'data-dir': { type: 'string', default: process.env.AGENTPLANE_DATA_DIR ?? '.agentplane' },
    'port-base': { type: 'string', default: process.env.AGENTPLANE_PORT_BASE ?? String(DEFAULT_PORT_BASE) },
    assembly: { type: 'string' },
    quiet: { type: 'boolean', default: false },
    sample: { type: 'boolean', default: true },
    iam: { type: 'boolean', default: process.env.AGENTPLANE_IAM !== 'off' },
  },
  allowNegative: true,
});

const started = Date.now();
const dataDir = resolve(values['data-dir']);
const logger = consoleLogger(values.quiet ? 'warn' : 'info');
mkdirSync(dataDir, { recursive: true });

async function synthesize(): Promise<string> {
  const outdir = join(dataDir, 'cdk.out');
  logger.info('synthesizing the CDK app', { outdir });
  // Imported lazily: aws-cdk-lib is only needed when we synthesize.
  const { buildApp } = await import('../bin/app');
  const { app } = buildApp({ outdir, nag: false, local: true });
  app.synth();
  return outdir;
}

/** `AGENTPLANE_ASYNC_RETRY_DELAYS_MS=a,b`: the local waits standing for AWS's 1 and 2 minutes between retries. */
function asyncRetryDelaysMs(variable = 'AGENTPLANE_ASYNC_RETRY_DELAYS_MS', example = '1000,2000'): [number, number] | undefined {
  const raw = process.env[variable];
  if (!raw) return undefined;
  const delays = raw.split(',').map((part) => Number(part.trim()));
  if (delays.length !== 2 || delays.some((ms) => !Number.isFinite(ms) || ms < 0)) {
    throw new Error(`${variable} must be two non-negative numbers of ms, e.g. ${example} (got ${raw})`);
  }
  return [delays[0], delays[1]];
}

/** `AGENTPLANE_LAMBDA_ACCOUNT_CONCURRENCY=n`: the account's concurrent executions (default AWS's 1000). */
function lambdaAccountConcurrency(): number | undefined {
  const raw = process.env.AGENTPLANE_LAMBDA_ACCOUNT_CONCURRENCY;
  if (!raw) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`AGENTPLANE_LAMBDA_ACCOUNT_CONCURRENCY must be a positive integer (got ${raw})`);
  return n;
}

async function main() {
  const assemblyDir = values.assembly ? resolve(values.assembly) : await synthesize();
  const cloud = await startLocalCloud({
    assemblyDir,
    stackName: 'Agentplane',
    dataDir,
    portBase: Number(values['port-base']),
    fresh: values.fresh,
    logger,
    asyncRetryDelaysMs: asyncRetryDelaysMs(),
    asyncThrottleDelaysMs: asyncRetryDelaysMs('AGENTPLANE_ASYNC_THROTTLE_DELAYS_MS', '100,2000'),
    lambdaAccountConcurrency: lambdaAccountConcurrency(),
    enforceIam: values.iam,
  });
  const { config } = cloud;
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  process.stdout.write(
    [
      '',
      `Agentplane local cloud is up (${seconds} s)`,
      `  REST API      ${config.restUrl}`,
      `  WebSocket     ${config.wsUrl}`,
      `  DynamoDB      ${config.endpoints.dynamodb}`,
      `  S3            ${config.endpoints.s3}`,
      `  Step Functions ${config.endpoints.stepfunctions}`,
      `  Admin token   ${config.token}`,
      `  Config        ${join(dataDir, 'local.json')}`,
      `  Logs          ${join(dataDir, 'logs')}`,
      config.iam.enforced
        ? `  IAM           enforced: each function and state machine acts as its role (--no-iam turns it off); ledger ${config.iam.ledgerFile}`
        : `  IAM           NOT enforced (--no-iam); refusals are only recorded in ${config.iam.ledgerFile}`,
      '',
      `Try: curl ${config.restUrl}/health`,
      'Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
  process.stdout.write('AGENTPLANE_READY\n');
  if (values.sample) {
    process.stdout.write('\nRunning the sample COBOL → Java migration (skip with --no-sample)\n');
    try {
      const { runSample } = await import('./sample-run');
      await runSample(config, join(dataDir, 'sample'));
    } catch (error) {
      process.stderr.write(`The sample run did not complete: ${error instanceof Error ? error.message : String(error)}\n`);
    }
    process.stdout.write('The local cloud keeps running. Ctrl-C stops everything.\n');
  }
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info(`stopping (${signal})`);
    await cloud.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error: unknown) => {
  process.stderr.write(`\nThe local cloud did not start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
