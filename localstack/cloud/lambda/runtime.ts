/**
 * Lambda functions of the template, each run from its bundled asset in a pool of worker threads. A worker is an
 * execution environment: its own `process.env` (the function's resolved environment, never the host's), one
 * invocation at a time, reused while warm, replaced after a crash or a timeout.
 */
import { Worker } from 'node:worker_threads';
import { createWriteStream, existsSync, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import {
  functionNameOf,
  ResourceNotFoundError,
  type CloudLogger,
  type LambdaInvoker,
  type LambdaResult,
  type ResolvedResource,
} from '../types';
import { checkRequestSize, ConcurrencyLimiter, DEFAULT_ACCOUNT_CONCURRENCY, payloadBytes, responseTooLarge, TooManyRequestsError } from './limits';

export interface FunctionDefinition {
  name: string;
  logicalId: string;
  arn: string;
  codeDir: string;
  entryFile: string;
  handlerName: string;
  timeoutMs: number;
  memoryMb: number;
  environment: Record<string, string>;
  maxConcurrency: number;
  /** ReservedConcurrentExecutions: the most invocations Lambda runs at once; more are throttled (./limits.ts). */
  reservedConcurrency?: number;
  logGroupName: string;
  /** The execution role (`Role`), whose credentials the Lambda service puts in the environment. */
  roleArn?: string;
}

/** What an invocation ended with, as worker.mjs reports it. */
type WorkerResult =
  | { ok: true; payload: unknown }
  | { ok: false; errorType: string; errorMessage: string; trace: string[] };

/** The messages worker.mjs posts. */
type WorkerMessage =
  | { type: 'ready' }
  | { type: 'init-error'; errorType: string; errorMessage: string }
  | ({ type: 'result'; id: string } & WorkerResult);

/** The function properties read here, as CloudFormation spells them; a template may write a number as text. */
interface FunctionProperties {
  Runtime?: string;
  Role?: string;
  Code?: { S3Key?: string };
  Handler?: string;
  Environment?: { Variables?: Record<string, unknown> };
  Timeout?: number | string;
  MemorySize?: number | string;
  ReservedConcurrentExecutions?: number | string;
  LoggingConfig?: { LogGroup?: string };
}

interface Pending {
  resolve(result: LambdaResult): void;
  timer: NodeJS.Timeout;
}

class ExecutionEnvironment {
  readonly worker: Worker;
  readonly ready: Promise<LambdaResult | undefined>;
  busy = false;
  dead = false;
  lastUsed = Date.now();
  private pending = new Map<string, Pending>();

  constructor(private readonly fn: FunctionDefinition, env: Record<string, string>, log: WriteStream) {
    this.worker = new Worker(fileURLToPath(new URL('./worker.mjs', import.meta.url)), {
      env,
      workerData: {
        entryFile: fn.entryFile,
        handlerName: fn.handlerName,
        functionName: fn.name,
        functionArn: fn.arn,
        memoryMb: fn.memoryMb,
        logGroupName: fn.logGroupName,
      },
      stdout: true,
      stderr: true,
    });
    this.worker.stdout.pipe(log, { end: false });
    this.worker.stderr.pipe(log, { end: false });
    this.ready = new Promise((resolve) => {
      const onMessage = (message: WorkerMessage) => {
        switch (message.type) {
          case 'ready':
            resolve(undefined);
            break;
          case 'init-error':
            this.dead = true;
            resolve({ ok: false, errorType: message.errorType, errorMessage: message.errorMessage });
            break;
          case 'result':
            this.settle(message.id, message);
            break;
        }
      };
      this.worker.on('message', onMessage);
      this.worker.on('error', (error) => {
        this.dead = true;
        const failure: LambdaResult = { ok: false, errorType: 'Runtime.ExitError', errorMessage: `RequestId: process exited: ${error.message}` };
        resolve(failure);
        for (const id of [...this.pending.keys()]) this.settle(id, failure);
      });
      this.worker.on('exit', () => {
        this.dead = true;
        resolve({ ok: false, errorType: 'Runtime.ExitError', errorMessage: 'Runtime exited before it was ready' });
        for (const id of [...this.pending.keys()]) this.settle(id, { ok: false, errorType: 'Runtime.ExitError', errorMessage: 'Runtime exited' });
      });
    });
  }

  private settle(id: string, result: WorkerResult | LambdaResult) {
    const pending = this.pending.get(id);
    if (!pending) return;
    this.pending.delete(id);
    clearTimeout(pending.timer);
    pending.resolve(
      result.ok ? { ok: true, payload: result.payload } : { ok: false, errorType: result.errorType, errorMessage: result.errorMessage, trace: result.trace },
    );
  }

  invoke(event: unknown): Promise<LambdaResult> {
    const id = randomUUID();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        // Lambda stops the environment at the timeout; the next invocation gets a fresh one.
        this.dead = true;
        this.pending.delete(id);
        void this.worker.terminate();
        resolve({ ok: false, errorType: 'Sandbox.Timedout', errorMessage: `Task timed out after ${(this.fn.timeoutMs / 1000).toFixed(2)} seconds` });
      }, this.fn.timeoutMs);
      this.pending.set(id, { resolve, timer });
      this.worker.postMessage({ type: 'invoke', id, event, requestId: id, deadline: Date.now() + this.fn.timeoutMs });
    });
  }
}

class FunctionPool {
  private environments: ExecutionEnvironment[] = [];
  private waiting: Array<() => void> = [];
  invocations = 0;
  errors = 0;
  coldStarts = 0;
  throttles = 0;

  constructor(readonly fn: FunctionDefinition, private readonly env: Record<string, string>, private readonly log: WriteStream) {}

  private async acquire(): Promise<ExecutionEnvironment> {
    for (;;) {
      this.environments = this.environments.filter((e) => !e.dead);
      const idle = this.environments.find((e) => !e.busy);
      if (idle) {
        idle.busy = true;
        return idle;
      }
      if (this.environments.length < this.fn.maxConcurrency) {
        const created = new ExecutionEnvironment(this.fn, this.env, this.log);
        created.busy = true;
        this.coldStarts++;
        this.environments.push(created);
        return created;
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  private release(env: ExecutionEnvironment) {
    env.busy = false;
    env.lastUsed = Date.now();
    this.waiting.shift()?.();
  }

  async invoke(event: unknown): Promise<LambdaResult> {
    this.invocations++;
    const env = await this.acquire();
    try {
      const initFailure = await env.ready;
      const result = initFailure ?? (await env.invoke(event));
      if (!result.ok) this.errors++;
      return result;
    } finally {
      this.release(env);
    }
  }

  /** Ends environments idle for longer than `idleMs`, as Lambda recycles cold ones. */
  reap(idleMs: number) {
    const now = Date.now();
    for (const env of this.environments) {
      if (!env.busy && now - env.lastUsed > idleMs) {
        env.dead = true;
        void env.worker.terminate();
      }
    }
    this.environments = this.environments.filter((e) => !e.dead);
  }

  async stop() {
    await Promise.all(this.environments.map((e) => e.worker.terminate()));
    this.environments = [];
  }

  get warm(): number {
    return this.environments.filter((e) => !e.dead).length;
  }
}

export interface LambdaRuntimeOptions {
  logDir: string;
  /** What the Lambda service itself puts in every environment (region, credentials, service endpoints). */
  baseEnvironment: Record<string, string>;
  logger: CloudLogger;
  defaultMaxConcurrency?: number;
  idleMs?: number;
  /** Concurrent executions of the account (AWS's default 1000): unreserved functions share what reservations leave. */
  accountConcurrency?: number;
  /** The credentials of a function's execution role (`AWS_ACCESS_KEY_ID`, …), set over its own variables as Lambda reserves them. */
  credentialsOf?: (fn: FunctionDefinition) => Record<string, string>;
}

export class LambdaRuntime implements LambdaInvoker {
  private pools = new Map<string, FunctionPool>();
  private logs: WriteStream[] = [];
  private reaper: NodeJS.Timeout;
  private readonly concurrency: ConcurrencyLimiter;

  constructor(private readonly options: LambdaRuntimeOptions) {
    this.concurrency = new ConcurrencyLimiter(options.accountConcurrency ?? DEFAULT_ACCOUNT_CONCURRENCY);
    mkdirSync(options.logDir, { recursive: true });
    this.reaper = setInterval(() => { this.pools.forEach((p) => { p.reap(options.idleMs ?? 5 * 60_000); }); }, 30_000);
    this.reaper.unref();
  }

  add(fn: FunctionDefinition): void {
    if (fn.reservedConcurrency !== undefined) this.concurrency.reserve(fn.name, fn.reservedConcurrency);
    const log = createWriteStream(join(this.options.logDir, `${fn.logicalId}.log`), { flags: 'a' });
    // Every execution environment of the function pipes into this one file.
    log.setMaxListeners(0);
    this.logs.push(log);
    const env: Record<string, string> = {
      ...this.options.baseEnvironment,
      AWS_LAMBDA_FUNCTION_NAME: fn.name,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
      AWS_LAMBDA_LOG_GROUP_NAME: fn.logGroupName,
      AWS_LAMBDA_LOG_STREAM_NAME: 'local',
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
      LAMBDA_TASK_ROOT: fn.codeDir,
      _HANDLER: `index.${fn.handlerName}`,
      ...fn.environment,
      ...this.options.credentialsOf?.(fn),
    };
    this.pools.set(fn.name, new FunctionPool(fn, env, log));
  }

  has(ref: string): boolean {
    return this.pools.has(functionNameOf(ref));
  }

  /** The execution role of a function, by name or ARN. */
  roleOf(ref: string): string | undefined {
    return this.pools.get(functionNameOf(ref))?.fn.roleArn;
  }

  /**
   * Lambda's synchronous Invoke, for every caller (the Invoke API, Step Functions, API Gateway, stream mappings,
   * the async invoker): a request over 6 MB throws RequestTooLargeError before any worker runs, an invocation over
   * the function's or the account's concurrency throws TooManyRequestsError, a response over 6 MB becomes the
   * function error `Function.ResponseSizeTooLarge`.
   */
  async invoke(ref: string, event: unknown, requestBytes?: number): Promise<LambdaResult> {
    const pool = this.pools.get(functionNameOf(ref));
    if (!pool) throw new ResourceNotFoundError(`Function not found: ${ref}`);
    checkRequestSize(requestBytes ?? payloadBytes(event), 'RequestResponse');
    let release: () => void;
    try {
      release = this.concurrency.acquire(pool.fn.name);
    } catch (error) {
      if (error instanceof TooManyRequestsError) pool.throttles++;
      throw error;
    }
    try {
      const result = await pool.invoke(event);
      if (!result.ok) return result;
      const tooLarge = responseTooLarge(payloadBytes(result.payload));
      if (tooLarge) pool.errors++;
      return tooLarge ?? result;
    } finally {
      release();
    }
  }

  functions(): Array<{
    name: string;
    logicalId: string;
    arn: string;
    codeDir: string;
    invocations: number;
    errors: number;
    coldStarts: number;
    throttles: number;
    warm: number;
  }> {
    return [...this.pools.values()].map((p) => ({
      name: p.fn.name,
      logicalId: p.fn.logicalId,
      arn: p.fn.arn,
      codeDir: p.fn.codeDir,
      invocations: p.invocations,
      errors: p.errors,
      coldStarts: p.coldStarts,
      throttles: p.throttles,
      warm: p.warm,
    }));
  }

  async stop(): Promise<void> {
    clearInterval(this.reaper);
    await Promise.all([...this.pools.values()].map((p) => p.stop()));
    for (const log of this.logs) log.end();
  }
}

/** Reads a resolved `AWS::Lambda::Function` into what the runtime needs; its code comes from the assembly's assets. */
export function functionFromResource(resource: ResolvedResource, assetDirs: Map<string, string>, defaultMaxConcurrency: number): FunctionDefinition {
  // The synthesized template, resolved: the CloudFormation schema of the function is what types these properties.
  const p = resource.properties as FunctionProperties;
  const where = `${resource.logicalId} (AWS::Lambda::Function)`;
  if (!p.Runtime || !p.Runtime.startsWith('nodejs')) throw new Error(`${where}: runtime ${String(p.Runtime)} cannot run locally (only nodejs*)`);
  const key = p.Code?.S3Key ?? '';
  const hash = key.replace(/\.zip$/, '');
  const codeDir = assetDirs.get(hash);
  if (!codeDir) throw new Error(`${where}: code asset ${key} not found in the cloud assembly (inline code and images are not supported)`);
  const [file, handlerName] = (p.Handler ?? 'index.handler').split(/\.(?=[^.]+$)/) as [string, string];
  const entryFile = ['.mjs', '.js', '.cjs'].map((ext) => join(codeDir, file + ext)).find((f) => existsSync(f));
  if (!entryFile) throw new Error(`${where}: handler file ${file}.mjs/.js not found in ${codeDir}`);
  const environment: Record<string, string> = {};
  for (const [k, v] of Object.entries(p.Environment?.Variables ?? {})) environment[k] = String(v);
  const reserved = p.ReservedConcurrentExecutions === undefined ? undefined : Number(p.ReservedConcurrentExecutions);
  if (reserved !== undefined && (!Number.isInteger(reserved) || reserved < 0)) {
    throw new Error(`${where}: ReservedConcurrentExecutions must be a non-negative integer (got ${String(p.ReservedConcurrentExecutions)})`);
  }
  return {
    name: resource.physicalId,
    logicalId: resource.logicalId,
    arn: resource.attributes.Arn,
    codeDir,
    entryFile,
    handlerName,
    timeoutMs: Number(p.Timeout ?? 3) * 1000,
    memoryMb: Number(p.MemorySize ?? 128),
    environment,
    maxConcurrency: Math.max(1, Math.min(reserved ?? defaultMaxConcurrency, defaultMaxConcurrency)),
    ...(reserved !== undefined ? { reservedConcurrency: reserved } : {}),
    logGroupName: p.LoggingConfig?.LogGroup ?? `/aws/lambda/${resource.physicalId}`,
    ...(typeof p.Role === 'string' ? { roleArn: p.Role } : {}),
  };
}
