/** Shared fixtures of the local Step Functions tests: a fake Lambda invoker, a service behind a real SFN client. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeExecutionCommand, SFNClient, type DescribeExecutionCommandOutput } from '@aws-sdk/client-sfn';
import { LocalStepFunctions, type ExecutionStatusChangeEvent, type StepFunctionsServiceOptions } from '../../../../localstack/cloud/stepfunctions';
import { functionArn, ResourceNotFoundError, type CloudLogger, type LambdaInvoker, type LambdaResult } from '../../../../localstack/cloud/types';

export const REGION = 'us-east-1';
export const ACCOUNT = '000000000000';
export const ROLE = `arn:aws:iam::${ACCOUNT}:role/sfn`;

/** A local function: it gets the task's JSON input and returns its result (or a promise of it). */
export type FakeFunction = (event: unknown) => unknown;

/** A function error, as a Lambda handler throwing an error of that name would produce. */
export class FunctionError extends Error {
  constructor(readonly errorType: string, message: string) {
    super(message);
  }
}

export class FakeLambda implements LambdaInvoker {
  readonly calls: Array<{ name: string; event: unknown }> = [];
  constructor(readonly functions: Partial<Record<string, FakeFunction>> = {}) {}

  has(ref: string): boolean {
    return this.nameOf(ref) in this.functions;
  }

  private nameOf(ref: string): string {
    return /function:([^:]+)/.exec(ref)?.[1] ?? ref;
  }

  async invoke(ref: string, event: unknown): Promise<LambdaResult> {
    const name = this.nameOf(ref);
    const fn = this.functions[name];
    if (!fn) throw new ResourceNotFoundError(`Function not found: ${ref}`);
    this.calls.push({ name, event });
    try {
      return { ok: true, payload: await fn(event) };
    } catch (error) {
      // A FunctionError carries its type; any other error is named by its class, as a thrown Error is in Lambda.
      const e = error as Error & { errorType?: string };
      return { ok: false, errorType: e.errorType ?? e.name, errorMessage: e.message, trace: [`${e.name}: ${e.message}`] };
    }
  }
}

export const fn = (name: string) => functionArn(name, REGION, ACCOUNT);

const silentLogger: CloudLogger = { info() {}, warn() {}, error() {}, debug() {} };

export interface Harness {
  service: LocalStepFunctions;
  client: SFNClient;
  url: string;
  events: ExecutionStatusChangeEvent[];
  dataDir: string;
  close(): Promise<void>;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function startHarness(
  lambda: LambdaInvoker,
  overrides: Partial<StepFunctionsServiceOptions> = {},
): Promise<Harness> {
  const dataDir = overrides.dataDir ?? tempDir('sfn-data-');
  const events: ExecutionStatusChangeEvent[] = [];
  const service = new LocalStepFunctions({
    region: REGION,
    accountId: ACCOUNT,
    dataDir,
    lambda,
    dynamodbEndpoint: 'http://127.0.0.1:1',
    s3Endpoint: 'http://127.0.0.1:1',
    onStatusChange: (event) => events.push(event),
    logger: silentLogger,
    ...overrides,
  });
  await service.init();
  const server = await service.listen(0);
  const client = new SFNClient({
    endpoint: server.url,
    region: REGION,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  return {
    service,
    client,
    url: server.url,
    events,
    dataDir,
    close: async () => {
      client.destroy();
      await service.stop();
      if (!overrides.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls until the predicate holds, failing at the deadline (never a fixed sleep). */
export async function waitFor<T>(probe: () => T | Promise<T>, timeoutMs = 10_000, what = 'condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export async function waitForEnd(client: SFNClient, executionArn: string, timeoutMs = 15_000): Promise<DescribeExecutionCommandOutput> {
  return waitFor(
    async () => {
      const out = await client.send(new DescribeExecutionCommand({ executionArn }));
      return out.status !== 'RUNNING' ? out : undefined;
    },
    timeoutMs,
    `end of ${executionArn}`,
  );
}
