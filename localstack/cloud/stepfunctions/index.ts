/**
 * The local Step Functions service: the control-plane API (state machines, versions, executions, task tokens,
 * history, map runs) over the execution engine, persisted under `dataDir`, and reachable through
 * `@aws-sdk/client-sfn` via `listen()`.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import type { CloudLogger, LambdaInvoker } from '../types';
import { executionArn as buildExecutionArn, parseStateMachineArn, stateMachineArn as buildStateMachineArn } from './arns';
import { compileDefinition, DefinitionError, parseDefinition, type CompiledMachine } from './definition';
import type { StateMachineDefinition } from './asl';
import type { MapRun } from './distributed-map';
import { byteLength, DEFAULT_MAX_HISTORY_EVENTS, Engine, MAX_PAYLOAD_BYTES } from './engine';
import { SfnServiceError } from './errors';
import { listen as listenHttp } from './http';
import { accessKeyOf, type IamAuthority } from '../iam/authority';
import { stepFunctionsPermissions } from '../iam/service-actions';
import { ExecutionRuntime, type ExecutionRecord, type HistoryEvent } from './runtime';
import { display, fieldText, objectOr, parseJson, type JsonObject, type JsonValue } from './json';
import { JsonStore } from './store';

export type { ExecutionRecord } from './runtime';

/** A request as received: each field is whatever JSON the caller sent, checked where it is used. */
type Request<T> = { [K in keyof T]?: JsonValue };

/** A string field of a request. The SDK sends strings; anything else is kept as its JSON text, null as absent. */
function textField(value: JsonValue | undefined): string | undefined {
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export interface StepFunctionsServiceOptions {
  region: string;
  accountId: string;
  /** Persistence of state machines and executions (JSON files); survives restarts. */
  dataDir: string;
  lambda: LambdaInvoker;
  /** DynamoDB Local, for the DynamoDB service integrations. */
  dynamodbEndpoint: string;
  /** S3 emulator (path style), for Distributed Map ItemReader/ResultWriter and the S3 integrations. */
  s3Endpoint: string;
  onStatusChange(event: ExecutionStatusChangeEvent): void;
  logger: CloudLogger;
  /** History events allowed per execution before it fails, as AWS's 25,000 (lower it in tests). */
  maxHistoryEvents?: number;
  /**
   * The local cloud's IAM: API callers are authorized by their access key, and executions act as their state
   * machine's role (Lambda invocations checked here, DynamoDB and S3 calls signed with the role's key).
   */
  iam?: IamAuthority;
}

export interface ExecutionStatusChangeEvent {
  version: '0';
  id: string;
  'detail-type': 'Step Functions Execution Status Change';
  source: 'aws.states';
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: {
    executionArn: string;
    stateMachineArn: string;
    name: string;
    status: string;
    startDate: number;
    stopDate: number | null;
    input: string;
    inputDetails: { included: boolean };
    output: string | null;
    outputDetails: { included: boolean } | null;
    error: string | null;
    cause: string | null;
    stateMachineVersionArn: string | null;
    stateMachineAliasArn: string | null;
    redriveCount: number;
    redriveDate: number | null;
    redriveStatus: string;
    redriveStatusReason: string;
  };
}

export interface StateMachineVersion {
  version: number;
  definition: string;
  roleArn: string;
  description?: string;
  creationDate: number;
  revisionId: string;
}

export interface StateMachineRecord {
  name: string;
  stateMachineArn: string;
  definition: string;
  roleArn: string;
  type: 'STANDARD' | 'EXPRESS';
  creationDate: number;
  updateDate?: number;
  revisionId: string;
  loggingConfiguration?: JsonValue;
  tracingConfiguration?: JsonValue;
  versions: StateMachineVersion[];
  nextVersion: number;
  /** Resource tags, key → value (absent on machines persisted before tags were kept). */
  tags?: Record<string, string>;
}

type ResourceTag = {
  key: string;
  value: string;
};

export interface CreateStateMachineInput {
  name: string;
  definition: string;
  roleArn: string;
  type?: 'STANDARD' | 'EXPRESS';
  publish?: boolean;
  versionDescription?: string;
  loggingConfiguration?: JsonValue;
  tracingConfiguration?: JsonValue;
  tags?: ResourceTag[];
}

export const RESTART_ERROR = 'States.LocalCloudRestart';
const RESTART_CAUSE = 'The local cloud stopped while this execution was running; it did not resume after the restart.';

// eslint-disable-next-line no-control-regex -- AWS names exclude the C0 and C1 control characters, which is what this range says.
const NAME_PATTERN = /^[^\s?*<>{}[\]"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]{1,80}$/;

const MAX_TAGS = 50;
const TAG_KEY = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u;
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$/u;

/** Validates tags as AWS does (key 1–128, value 0–256 of letters, digits, spaces and `_.:/=+-@`). */
function tagMap(tags: unknown): Record<string, string> {
  if (!Array.isArray(tags)) throw new SfnServiceError('ValidationException', 'tags must be a list of {key, value}.');
  const out: Record<string, string> = {};
  // A request may hold anything in the list, null included.
  for (const tag of tags as Array<{ key?: unknown; value?: unknown } | null | undefined>) {
    const key = fieldText(tag?.key ?? '');
    const value = fieldText(tag?.value ?? '');
    if (!TAG_KEY.test(key) || key.startsWith('aws:')) throw new SfnServiceError('InvalidParameterValue', `Invalid tag key: '${key}'`);
    if (!TAG_VALUE.test(value)) throw new SfnServiceError('InvalidParameterValue', `Invalid tag value for key '${key}'`);
    out[key] = value;
  }
  return out;
}

/** Whether a request carries tags to check (an empty list or string, or a value without a length, carries none). */
function hasTags(tags: JsonValue | undefined): boolean {
  return (Array.isArray(tags) || typeof tags === 'string') && tags.length > 0;
}

const seconds = (ms: number | undefined) => (ms === undefined ? undefined : ms / 1000);

function pageOf<T>(items: T[], maxResults: unknown, nextToken: unknown, defaultSize: number): { page: T[]; nextToken?: string } {
  const size = typeof maxResults === 'number' && maxResults > 0 ? Math.min(maxResults, 1000) : defaultSize;
  let start = 0;
  if (typeof nextToken === 'string' && nextToken !== '') {
    start = Number(Buffer.from(nextToken, 'base64url').toString('utf8'));
    if (!Number.isInteger(start) || start < 0) throw new SfnServiceError('InvalidToken', 'Invalid pagination token.');
  }
  const page = items.slice(start, start + size);
  return { page, ...(start + size < items.length ? { nextToken: Buffer.from(String(start + size)).toString('base64url') } : {}) };
}

export class LocalStepFunctions {
  private readonly machines = new Map<string, StateMachineRecord>();
  private readonly records = new Map<string, ExecutionRecord>();
  private readonly compiledCache = new Map<string, CompiledMachine>();
  private readonly machineStore: JsonStore<StateMachineRecord>;
  private readonly executionStore: JsonStore<ExecutionRecord>;
  private readonly historyStore: JsonStore<{ executionArn: string; events: HistoryEvent[] }>;
  private readonly engine: Engine;
  private readonly servers = new Set<{ close(): Promise<void> }>();
  private readonly dynamodbClients = new Map<string, DynamoDBClient>();
  private readonly s3Clients = new Map<string, S3Client>();
  private stopped = false;

  constructor(private readonly opts: StepFunctionsServiceOptions) {
    this.machineStore = new JsonStore(join(opts.dataDir, 'state-machines'));
    this.executionStore = new JsonStore(join(opts.dataDir, 'executions'));
    this.historyStore = new JsonStore(join(opts.dataDir, 'histories'));
    const credentials = (roleArn: string) => ({ accessKeyId: opts.iam?.accessKeyFor(roleArn) ?? 'local', secretAccessKey: 'local' });
    this.engine = new Engine({
      region: opts.region,
      accountId: opts.accountId,
      lambda: opts.lambda,
      logger: opts.logger,
      maxHistoryEvents: opts.maxHistoryEvents ?? DEFAULT_MAX_HISTORY_EVENTS,
      dynamodb: (roleArn) =>
        cached(this.dynamodbClients, roleArn, () => new DynamoDBClient({ endpoint: opts.dynamodbEndpoint, region: opts.region, credentials: credentials(roleArn) })),
      s3: (roleArn) =>
        cached(this.s3Clients, roleArn, () =>
          new S3Client({
            endpoint: opts.s3Endpoint,
            region: opts.region,
            credentials: credentials(roleArn),
            forcePathStyle: true,
          }),
        ),
      refusal: (roleArn, requests) => {
        const iam = opts.iam;
        if (!iam) return undefined;
        const decision = iam.authorize(iam.callerForRole(roleArn), requests);
        return decision.allowed ? undefined : decision.message;
      },
      onStatusChange: (runtime) => { this.onStatusChange(runtime); },
    });
    this.engine.knownExecution = (arn) => this.records.has(arn);
  }

  async init(): Promise<void> {
    for (const store of [this.machineStore, this.executionStore, this.historyStore]) store.init();
    const onError = (file: string, error: unknown) => { this.opts.logger.warn('step functions: unreadable record skipped', { file, error: String(error) }); };
    for (const machine of this.machineStore.loadAll(onError)) this.machines.set(machine.stateMachineArn, machine);
    for (const record of this.executionStore.loadAll(onError)) {
      this.records.set(record.executionArn, record);
      if (record.status !== 'RUNNING') continue;
      record.status = 'FAILED';
      record.error = RESTART_ERROR;
      record.cause = RESTART_CAUSE;
      record.stopDate = Date.now();
      const events: HistoryEvent[] = this.historyStore.read(record.executionArn)?.events ?? [
        { id: 1, previousEventId: 0, timestamp: record.startDate, type: 'ExecutionStarted', detailsKey: 'executionStartedEventDetails', details: { input: record.input, inputDetails: { truncated: false }, roleArn: record.roleArn } },
      ];
      const id = events.length + 1;
      events.push({ id, previousEventId: id - 1, timestamp: record.stopDate, type: 'ExecutionFailed', detailsKey: 'executionFailedEventDetails', details: { error: RESTART_ERROR, cause: RESTART_CAUSE } });
      record.historyEventCount = events.length;
      this.executionStore.write(record.executionArn, record);
      this.historyStore.write(record.executionArn, { executionArn: record.executionArn, events });
      this.emit(record);
    }
    await this.engine.warmUp();
  }

  // --- public helpers ----------------------------------------------------------------------------------------------

  createStateMachine(input: CreateStateMachineInput): { stateMachineArn: string; stateMachineVersionArn?: string; creationDate: Date } {
    try {
      const out = this.doCreateStateMachine(input);
      return { ...out, creationDate: new Date(out.creationDate) };
    } catch (error) {
      if (error instanceof DefinitionError) throw new SfnServiceError('InvalidDefinition', error.message);
      throw error;
    }
  }

  /**
   * Deploys a state machine of the template as CloudFormation would: creates it, updates it in place when its
   * definition or role changed since the last start, or replaces it when its type changed. CreateStateMachine's
   * API semantics (StateMachineAlreadyExists for a different definition) would stop a restart after any edit.
   */
  putStateMachine(input: CreateStateMachineInput): { stateMachineArn: string; creationDate: Date; change: 'created' | 'updated' | 'replaced' | 'unchanged' } {
    const arn = buildStateMachineArn(this.opts, input.name);
    const existing = this.machines.get(arn);
    const type = input.type ?? 'STANDARD';
    if (existing && existing.type === type) {
      if (existing.definition === input.definition && existing.roleArn === input.roleArn) {
        return { stateMachineArn: arn, creationDate: new Date(existing.creationDate), change: 'unchanged' };
      }
      try {
        this.updateStateMachine({ stateMachineArn: arn, definition: input.definition, roleArn: input.roleArn, publish: input.publish, versionDescription: input.versionDescription });
      } catch (error) {
        if (error instanceof DefinitionError) throw new SfnServiceError('InvalidDefinition', error.message);
        throw error;
      }
      return { stateMachineArn: arn, creationDate: new Date(existing.creationDate), change: 'updated' };
    }
    if (existing) this.deleteStateMachine({ stateMachineArn: arn });
    const created = this.createStateMachine(input);
    return { stateMachineArn: created.stateMachineArn, creationDate: created.creationDate, change: existing ? 'replaced' : 'created' };
  }

  /** Every execution known to this process (including Distributed Map children), for assertions and tooling. */
  listExecutionRecords(): ExecutionRecord[] {
    const all = new Map<string, ExecutionRecord>(this.records);
    for (const [arn, runtime] of this.engine.runtimes) all.set(arn, runtime.record);
    return [...all.values()];
  }

  async listen(port: number, host = '127.0.0.1'): Promise<{ url: string; close(): Promise<void> }> {
    const iam = this.opts.iam;
    const location = { region: this.opts.region, accountId: this.opts.accountId };
    const authorize = iam
      ? (authorization: string | undefined, operation: string, body: unknown) =>
          iam.authorize(iam.callerForAccessKey(accessKeyOf(authorization)), stepFunctionsPermissions(operation, objectOr(body), location))
      : undefined;
    const server = await listenHttp(this, port, host, this.opts.logger, authorize);
    const handle = {
      url: server.url,
      close: async () => {
        this.servers.delete(handle);
        await server.close();
      },
    };
    this.servers.add(handle);
    return handle;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.engine.shutdown();
    await Promise.all([...this.servers].map((s) => s.close()));
    for (const client of this.dynamodbClients.values()) client.destroy();
    for (const client of this.s3Clients.values()) client.destroy();
  }

  // --- the API -----------------------------------------------------------------------------------------------------

  async handle(operation: string, body: unknown): Promise<JsonObject> {
    if (this.stopped) throw new SfnServiceError('ServiceUnavailable', 'The local Step Functions service is stopped.', 503);
    const input = objectOr(body);
    try {
      switch (operation) {
        case 'CreateStateMachine': {
          const out = this.doCreateStateMachine(input);
          return { ...out, creationDate: seconds(out.creationDate) };
        }
        case 'UpdateStateMachine':
          return this.updateStateMachine(input);
        case 'PublishStateMachineVersion':
          return this.publishVersion(input);
        case 'ListStateMachineVersions':
          return this.listVersions(input);
        case 'DeleteStateMachineVersion':
          return this.deleteVersion(input);
        case 'DescribeStateMachine':
          return this.describeStateMachine(input);
        case 'DescribeStateMachineForExecution':
          return this.describeStateMachine({ stateMachineArn: this.execution(input.executionArn).stateMachineVersionArn ?? this.execution(input.executionArn).stateMachineArn });
        case 'ListStateMachines':
          return this.listStateMachines(input);
        case 'DeleteStateMachine':
          return this.deleteStateMachine(input);
        case 'ValidateStateMachineDefinition':
          return this.validateDefinition(input);
        case 'StartExecution': {
          const { executionArn, startDate } = this.startExecution(input);
          return { executionArn, startDate };
        }
        case 'StartSyncExecution':
          return await this.startSyncExecution(input);
        case 'StopExecution':
          return this.stopExecution(input);
        case 'DescribeExecution':
          return this.describeExecution(input);
        case 'ListExecutions':
          return this.listExecutions(input);
        case 'GetExecutionHistory':
          return this.getExecutionHistory(input);
        case 'DescribeMapRun':
          return this.describeMapRun(input);
        case 'ListMapRuns':
          return this.listMapRuns(input);
        case 'TagResource':
          return this.tagResource(input);
        case 'UntagResource':
          return this.untagResource(input);
        case 'ListTagsForResource':
          return { tags: Object.entries(this.taggable(input.resourceArn).tags ?? {}).map(([key, value]) => ({ key, value })) };
        case 'SendTaskSuccess': {
          let output: JsonValue;
          try {
            output = parseJson(fieldText(input.output));
          } catch {
            throw new SfnServiceError('InvalidOutput', 'Invalid Output: the output is not valid JSON.');
          }
          if (byteLength(fieldText(input.output)) > MAX_PAYLOAD_BYTES) throw new SfnServiceError('ValidationException', `output exceeds ${MAX_PAYLOAD_BYTES} bytes`);
          this.engine.sendTaskSuccess(input.taskToken, output);
          return {};
        }
        case 'SendTaskFailure':
          this.engine.sendTaskFailure(input.taskToken, textField(input.error), textField(input.cause));
          return {};
        case 'SendTaskHeartbeat':
          this.engine.sendTaskHeartbeat(input.taskToken);
          return {};
        default:
          throw new SfnServiceError('UnknownOperationException', `The local cloud does not support the Step Functions operation ${operation}.`);
      }
    } catch (error) {
      if (error instanceof DefinitionError) throw new SfnServiceError('InvalidDefinition', error.message);
      throw error;
    }
  }

  // --- state machines ----------------------------------------------------------------------------------------------

  private compile(definition: string): CompiledMachine {
    let compiled = this.compiledCache.get(definition);
    if (!compiled) {
      // A definition is checked as ASL by parseDefinition before it is stored, so it has that shape here.
      compiled = compileDefinition(parseJson(definition) as StateMachineDefinition);
      this.compiledCache.set(definition, compiled);
    }
    return compiled;
  }

  /** Rejects, at creation, definitions that are invalid or that the local cloud could not run. */
  private checkDefinition(definition: unknown): string {
    parseDefinition(definition);
    this.compile(definition as string);
    return definition as string;
  }

  private machine(arn: unknown): StateMachineRecord {
    const parsed = parseStateMachineArn(arn);
    if (!parsed) throw new SfnServiceError('InvalidArn', `Invalid Arn: '${display(arn)}'`);
    const machine = this.machines.get(buildStateMachineArn(this.opts, parsed.name));
    if (!machine) throw new SfnServiceError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${display(arn)}'`);
    return machine;
  }

  private persistMachine(machine: StateMachineRecord): void {
    this.machineStore.write(machine.stateMachineArn, machine);
  }

  private doCreateStateMachine(input: Request<CreateStateMachineInput>): { stateMachineArn: string; stateMachineVersionArn?: string; creationDate: number } {
    if (typeof input.name !== 'string' || !NAME_PATTERN.test(input.name)) throw new SfnServiceError('InvalidName', `Invalid Name: '${display(input.name)}'`);
    if (typeof input.roleArn !== 'string' || !input.roleArn.startsWith('arn:')) throw new SfnServiceError('InvalidArn', `Invalid Arn: '${display(input.roleArn)}'`);
    const type = input.type ?? 'STANDARD';
    if (type !== 'STANDARD' && type !== 'EXPRESS') throw new SfnServiceError('ValidationException', `Invalid type ${display(type)}`);
    const definition = this.checkDefinition(input.definition);
    const arn = buildStateMachineArn(this.opts, input.name);
    const existing = this.machines.get(arn);
    if (existing) {
      // AWS's idempotency: same name, definition and type answer the existing machine; roleArn differences are ignored.
      if (existing.definition !== definition || existing.type !== type) {
        throw new SfnServiceError('StateMachineAlreadyExists', `State Machine Already Exists: '${arn}'`);
      }
      const latest = existing.versions.at(-1);
      if (input.publish && latest?.revisionId !== existing.revisionId) {
        const version = this.publish(existing, textField(input.versionDescription));
        return { stateMachineArn: arn, stateMachineVersionArn: `${arn}:${version.version}`, creationDate: existing.creationDate };
      }
      return { stateMachineArn: arn, ...(input.publish && latest ? { stateMachineVersionArn: `${arn}:${latest.version}` } : {}), creationDate: existing.creationDate };
    }
    const machine: StateMachineRecord = {
      name: input.name,
      stateMachineArn: arn,
      definition,
      roleArn: input.roleArn,
      type,
      creationDate: Date.now(),
      revisionId: randomUUID(),
      loggingConfiguration: input.loggingConfiguration,
      tracingConfiguration: input.tracingConfiguration,
      versions: [],
      nextVersion: 1,
      ...(hasTags(input.tags) ? { tags: tagMap(input.tags) } : {}),
    };
    this.machines.set(arn, machine);
    let versionArn: string | undefined;
    if (input.publish) versionArn = `${arn}:${this.publish(machine, textField(input.versionDescription)).version}`;
    this.persistMachine(machine);
    return { stateMachineArn: arn, ...(versionArn ? { stateMachineVersionArn: versionArn } : {}), creationDate: machine.creationDate };
  }

  private publish(machine: StateMachineRecord, description?: string): StateMachineVersion {
    const version: StateMachineVersion = {
      version: machine.nextVersion++,
      definition: machine.definition,
      roleArn: machine.roleArn,
      creationDate: Date.now(),
      revisionId: machine.revisionId,
      ...(description !== undefined ? { description } : {}),
    };
    machine.versions.push(version);
    this.persistMachine(machine);
    return version;
  }

  private updateStateMachine(input: JsonObject): JsonObject {
    const parsed = parseStateMachineArn(input.stateMachineArn);
    if (parsed?.version !== undefined) throw new SfnServiceError('ValidationException', 'A state machine version cannot be updated; update the unqualified state machine ARN.');
    const machine = this.machine(input.stateMachineArn);
    if (input.definition === undefined && input.roleArn === undefined && input.loggingConfiguration === undefined && input.tracingConfiguration === undefined) {
      throw new SfnServiceError('MissingRequiredParameter', 'Either the definition, the roleArn, the loggingConfiguration or the tracingConfiguration must be specified.');
    }
    let changed = false;
    if (input.definition !== undefined) {
      const definition = this.checkDefinition(input.definition);
      changed ||= definition !== machine.definition;
      machine.definition = definition;
    }
    if (input.roleArn !== undefined) {
      changed ||= input.roleArn !== machine.roleArn;
      machine.roleArn = textField(input.roleArn) ?? machine.roleArn;
    }
    if (input.loggingConfiguration !== undefined) machine.loggingConfiguration = input.loggingConfiguration;
    if (input.tracingConfiguration !== undefined) machine.tracingConfiguration = input.tracingConfiguration;
    if (changed) machine.revisionId = randomUUID();
    machine.updateDate = Date.now();
    let versionArn: string | undefined;
    if (input.publish) {
      const latest = machine.versions.at(-1);
      const version = latest && latest.revisionId === machine.revisionId ? latest : this.publish(machine, textField(input.versionDescription));
      versionArn = `${machine.stateMachineArn}:${version.version}`;
    }
    this.persistMachine(machine);
    return { updateDate: seconds(machine.updateDate), revisionId: machine.revisionId, ...(versionArn ? { stateMachineVersionArn: versionArn } : {}) };
  }

  private publishVersion(input: JsonObject): JsonObject {
    const machine = this.machine(input.stateMachineArn);
    if (input.revisionId !== undefined && input.revisionId !== machine.revisionId) {
      throw new SfnServiceError('ConflictException', `The revisionId ${display(input.revisionId)} is not the state machine's current revision.`);
    }
    const latest = machine.versions.at(-1);
    const version = latest && latest.revisionId === machine.revisionId ? latest : this.publish(machine, textField(input.description));
    return { creationDate: seconds(version.creationDate), stateMachineVersionArn: `${machine.stateMachineArn}:${version.version}` };
  }

  private listVersions(input: JsonObject): JsonObject {
    const machine = this.machine(input.stateMachineArn);
    const versions = [...machine.versions].reverse().map((v) => ({ stateMachineVersionArn: `${machine.stateMachineArn}:${v.version}`, creationDate: seconds(v.creationDate) }));
    const { page, nextToken } = pageOf(versions, input.maxResults, input.nextToken, 100);
    return { stateMachineVersions: page, ...(nextToken ? { nextToken } : {}) };
  }

  private deleteVersion(input: JsonObject): JsonObject {
    const parsed = parseStateMachineArn(input.stateMachineVersionArn);
    if (parsed?.version === undefined) throw new SfnServiceError('InvalidArn', `Invalid Arn: '${display(input.stateMachineVersionArn)}'`);
    const machine = this.machines.get(buildStateMachineArn(this.opts, parsed.name));
    if (machine) {
      machine.versions = machine.versions.filter((v) => v.version !== parsed.version);
      this.persistMachine(machine);
    }
    return {};
  }

  /** The definition (and version) an ARN designates: a version ARN pins that version. */
  private resolve(arn: unknown): { machine: StateMachineRecord; version?: StateMachineVersion } {
    const machine = this.machine(arn);
    const parsed = parseStateMachineArn(arn);
    if (!parsed) throw new SfnServiceError('InvalidArn', `Invalid Arn: '${display(arn)}'`);
    if (parsed.version === undefined) return { machine };
    const version = machine.versions.find((v) => v.version === parsed.version);
    if (!version) throw new SfnServiceError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${display(arn)}'`);
    return { machine, version };
  }

  // --- tags: state machines only (activities are not emulated) -------------------------------------------------

  /** Tags belong to the unqualified machine: AWS refuses version and alias ARNs here. */
  private taggable(resourceArn: unknown): StateMachineRecord {
    const parsed = parseStateMachineArn(resourceArn);
    if (!parsed || parsed.version !== undefined) throw new SfnServiceError('InvalidArn', `Invalid Arn: '${String(resourceArn)}'`);
    const machine = this.machines.get(buildStateMachineArn(this.opts, parsed.name));
    if (!machine) throw new SfnServiceError('ResourceNotFound', `Resource not found: '${String(resourceArn)}'`);
    return machine;
  }

  private tagResource(input: JsonObject): JsonObject {
    const machine = this.taggable(input.resourceArn);
    const tags = { ...(machine.tags ?? {}), ...tagMap(input.tags) };
    if (Object.keys(tags).length > MAX_TAGS) throw new SfnServiceError('TooManyTags', `A resource can have at most ${MAX_TAGS} tags.`);
    machine.tags = tags;
    this.persistMachine(machine);
    return {};
  }

  private untagResource(input: JsonObject): JsonObject {
    const machine = this.taggable(input.resourceArn);
    if (!Array.isArray(input.tagKeys)) throw new SfnServiceError('ValidationException', 'tagKeys must be a list of tag keys.');
    const removed = new Set((input.tagKeys as unknown[]).map(String));
    machine.tags = Object.fromEntries(Object.entries(machine.tags ?? {}).filter(([key]) => !removed.has(key)));
    this.persistMachine(machine);
    return {};
  }

  private describeStateMachine(input: JsonObject): JsonObject {
    const { machine, version } = this.resolve(input.stateMachineArn);
    return {
      stateMachineArn: version ? `${machine.stateMachineArn}:${version.version}` : machine.stateMachineArn,
      name: machine.name,
      status: 'ACTIVE',
      definition: version?.definition ?? machine.definition,
      roleArn: version?.roleArn ?? machine.roleArn,
      type: machine.type,
      creationDate: seconds(version?.creationDate ?? machine.creationDate),
      loggingConfiguration: machine.loggingConfiguration ?? { level: 'OFF', includeExecutionData: false },
      tracingConfiguration: machine.tracingConfiguration ?? { enabled: false },
      revisionId: version?.revisionId ?? machine.revisionId,
      ...(version?.description !== undefined ? { description: version.description } : {}),
    };
  }

  private listStateMachines(input: JsonObject): JsonObject {
    const all = [...this.machines.values()]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((m) => ({ stateMachineArn: m.stateMachineArn, name: m.name, type: m.type, creationDate: seconds(m.creationDate) }));
    const { page, nextToken } = pageOf(all, input.maxResults, input.nextToken, 100);
    return { stateMachines: page, ...(nextToken ? { nextToken } : {}) };
  }

  private deleteStateMachine(input: JsonObject): JsonObject {
    const parsed = parseStateMachineArn(input.stateMachineArn);
    if (!parsed) throw new SfnServiceError('InvalidArn', `Invalid Arn: '${display(input.stateMachineArn)}'`);
    if (parsed.version !== undefined) return this.deleteVersion({ stateMachineVersionArn: input.stateMachineArn });
    const arn = buildStateMachineArn(this.opts, parsed.name);
    // Running executions go on, as in AWS, since they hold their compiled definition.
    this.machines.delete(arn);
    this.machineStore.delete(arn);
    return {};
  }

  private validateDefinition(input: JsonObject): JsonObject {
    try {
      this.checkDefinition(input.definition);
      return { result: 'OK', diagnostics: [] };
    } catch (error) {
      if (!(error instanceof DefinitionError)) throw error;
      return { result: 'FAIL', diagnostics: [{ severity: 'ERROR', code: 'SCHEMA_VALIDATION_FAILED', message: error.message }] };
    }
  }

  // --- executions --------------------------------------------------------------------------------------------------

  private execution(arn: unknown): ExecutionRecord {
    if (typeof arn !== 'string' || !/^arn:aws[\w-]*:states:[^:]*:[^:]*:execution:/.test(arn)) {
      throw new SfnServiceError('InvalidArn', `Invalid Arn: '${display(arn)}'`);
    }
    const record = this.records.get(arn) ?? this.engine.runtimes.get(arn)?.record;
    if (!record) throw new SfnServiceError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
    return record;
  }

  private startExecution(input: JsonObject): { runtime?: ExecutionRuntime; executionArn: string; startDate: number | undefined } {
    const { machine, version } = this.resolve(input.stateMachineArn);
    const name = input.name ?? randomUUID();
    if (typeof name !== 'string' || !NAME_PATTERN.test(name)) throw new SfnServiceError('InvalidName', `Invalid Name: '${display(name)}'`);
    const inputText = input.input === undefined || input.input === null ? '{}' : fieldText(input.input);
    let parsedInput: JsonValue;
    try {
      parsedInput = parseJson(inputText);
    } catch {
      throw new SfnServiceError('InvalidExecutionInput', 'Invalid State Machine Execution Input: the input is not valid JSON.');
    }
    if (byteLength(inputText) > MAX_PAYLOAD_BYTES) {
      throw new SfnServiceError('InvalidExecutionInput', `Invalid State Machine Execution Input: the input exceeds ${MAX_PAYLOAD_BYTES} bytes.`);
    }
    const arn = buildExecutionArn(this.opts, machine.name, name);
    const existing = this.records.get(arn);
    if (existing) {
      // AWS answers a repeated start with the same name and input idempotently while the execution runs.
      if (existing.status === 'RUNNING' && existing.input === inputText) return { executionArn: arn, startDate: seconds(existing.startDate) };
      throw new SfnServiceError('ExecutionAlreadyExists', `Execution Already Exists: '${arn}'`);
    }
    const record: ExecutionRecord = {
      executionArn: arn,
      stateMachineArn: machine.stateMachineArn,
      ...(version ? { stateMachineVersionArn: `${machine.stateMachineArn}:${version.version}` } : {}),
      name,
      type: machine.type,
      roleArn: version?.roleArn ?? machine.roleArn,
      status: 'RUNNING',
      input: inputText,
      startDate: Date.now(),
      historyEventCount: 0,
    };
    const runtime = new ExecutionRuntime(record, this.compile(version?.definition ?? machine.definition));
    this.records.set(arn, record);
    this.engine.start(runtime, parsedInput);
    return { runtime, executionArn: arn, startDate: seconds(record.startDate) };
  }

  private async startSyncExecution(input: JsonObject): Promise<JsonObject> {
    const { machine } = this.resolve(input.stateMachineArn);
    if (machine.type !== 'EXPRESS') throw new SfnServiceError('StateMachineTypeNotSupported', 'StartSyncExecution supports EXPRESS state machines only.');
    const { runtime, executionArn } = this.startExecution(input);
    // Only a repeated start of an execution still running comes back without a runtime of its own.
    if (!runtime) throw new Error(`StartSyncExecution: execution ${executionArn} is already running`);
    const record = runtime.record;
    await runtime.done;
    return {
      executionArn: record.executionArn,
      stateMachineArn: record.stateMachineArn,
      name: record.name,
      startDate: seconds(record.startDate),
      stopDate: seconds(record.stopDate),
      status: record.status,
      input: record.input,
      inputDetails: { included: true },
      ...(record.output !== undefined ? { output: record.output, outputDetails: { included: true } } : {}),
      ...(record.error !== undefined ? { error: record.error } : {}),
      ...(record.cause !== undefined ? { cause: record.cause } : {}),
      billingDetails: { billedMemoryUsedInMB: 64, billedDurationInMilliseconds: (record.stopDate ?? Date.now()) - record.startDate },
    };
  }

  private stopExecution(input: JsonObject): JsonObject {
    const record = this.execution(input.executionArn);
    const runtime = this.engine.runtimes.get(record.executionArn);
    if (runtime && !runtime.closed) {
      this.engine.finish(runtime, 'ABORTED', {
        ...(input.error !== undefined ? { error: display(input.error) } : {}),
        ...(input.cause !== undefined ? { cause: display(input.cause) } : {}),
      });
    }
    return { stopDate: seconds(record.stopDate ?? Date.now()) };
  }

  private describeExecution(input: JsonObject): JsonObject {
    const r = this.execution(input.executionArn);
    return {
      executionArn: r.executionArn,
      stateMachineArn: r.stateMachineArn,
      name: r.name,
      status: r.status,
      startDate: seconds(r.startDate),
      ...(r.stopDate !== undefined ? { stopDate: seconds(r.stopDate) } : {}),
      input: r.input,
      inputDetails: { included: true },
      ...(r.output !== undefined ? { output: r.output, outputDetails: { included: true } } : {}),
      ...(r.error !== undefined ? { error: r.error } : {}),
      ...(r.cause !== undefined ? { cause: r.cause } : {}),
      ...(r.stateMachineVersionArn ? { stateMachineVersionArn: r.stateMachineVersionArn } : {}),
      ...(r.mapRunArn ? { mapRunArn: r.mapRunArn } : {}),
      redriveCount: 0,
      redriveStatus: 'NOT_REDRIVABLE',
      redriveStatusReason: r.status === 'RUNNING' ? 'Execution is RUNNING and cannot be redriven' : 'Redrive is not supported by the local cloud',
    };
  }

  private listExecutions(input: JsonObject): JsonObject {
    let all: ExecutionRecord[];
    if (input.mapRunArn !== undefined) {
      const run = this.mapRun(input.mapRunArn);
      all = run.childExecutionArns.map((arn) => {
        const child = this.engine.runtimes.get(arn);
        if (!child) throw new Error(`Map Run ${run.mapRunArn} lists ${arn}, which has no runtime`);
        return child.record;
      });
    } else {
      const { machine, version } = this.resolve(input.stateMachineArn);
      const versionArn = version ? `${machine.stateMachineArn}:${version.version}` : undefined;
      all = [...this.records.values()].filter(
        (r) => r.stateMachineArn === machine.stateMachineArn && (versionArn === undefined || r.stateMachineVersionArn === versionArn),
      );
    }
    if (input.statusFilter) all = all.filter((r) => r.status === input.statusFilter);
    all.sort((a, b) => b.startDate - a.startDate);
    const { page, nextToken } = pageOf(all, input.maxResults, input.nextToken, 100);
    return {
      executions: page.map((r) => ({
        executionArn: r.executionArn,
        stateMachineArn: r.stateMachineArn,
        name: r.name,
        status: r.status,
        startDate: seconds(r.startDate),
        ...(r.stopDate !== undefined ? { stopDate: seconds(r.stopDate) } : {}),
        ...(r.stateMachineVersionArn ? { stateMachineVersionArn: r.stateMachineVersionArn } : {}),
        ...(r.mapRunArn ? { mapRunArn: r.mapRunArn } : {}),
        redriveCount: 0,
      })),
      ...(nextToken ? { nextToken } : {}),
    };
  }

  private getExecutionHistory(input: JsonObject): JsonObject {
    const record = this.execution(input.executionArn);
    // Finished executions' histories are read from disk on demand rather than kept in memory.
    const events = this.engine.runtimes.get(record.executionArn)?.history ?? this.historyStore.read(record.executionArn)?.events ?? [];
    const ordered = input.reverseOrder ? [...events].reverse() : events;
    const { page, nextToken } = pageOf(ordered, input.maxResults, input.nextToken, 100);
    const includeData = input.includeExecutionData !== false;
    return {
      events: page.map((e) => {
        const out: JsonObject = { timestamp: seconds(e.timestamp), type: e.type, id: e.id, previousEventId: e.previousEventId };
        if (e.detailsKey) {
          const { input: _input, output: _output, parameters: _parameters, ...withoutData } = e.details ?? {};
          out[e.detailsKey] = includeData ? { ...e.details } : withoutData;
        }
        return out;
      }),
      ...(nextToken ? { nextToken } : {}),
    };
  }

  private describeMapRun(input: JsonObject): JsonObject {
    const run = this.mapRun(input.mapRunArn);
    return {
      mapRunArn: run.mapRunArn,
      executionArn: run.executionArn,
      status: run.status,
      startDate: seconds(run.startDate),
      ...(run.stopDate !== undefined ? { stopDate: seconds(run.stopDate) } : {}),
      maxConcurrency: run.maxConcurrency,
      toleratedFailurePercentage: run.toleratedFailurePercentage,
      toleratedFailureCount: run.toleratedFailureCount,
      itemCounts: run.itemCounts,
      executionCounts: run.executionCounts,
      redriveCount: 0,
    };
  }

  private listMapRuns(input: JsonObject): JsonObject {
    const record = this.execution(input.executionArn);
    const runs = [...this.engine.mapRuns.values()]
      .filter((r) => r.executionArn === record.executionArn)
      .map((r) => ({
        executionArn: r.executionArn,
        mapRunArn: r.mapRunArn,
        stateMachineArn: record.stateMachineArn,
        startDate: seconds(r.startDate),
        ...(r.stopDate !== undefined ? { stopDate: seconds(r.stopDate) } : {}),
      }));
    const { page, nextToken } = pageOf(runs, input.maxResults, input.nextToken, 100);
    return { mapRuns: page, ...(nextToken ? { nextToken } : {}) };
  }

  private mapRun(arn: JsonValue | undefined): MapRun {
    const run = typeof arn === 'string' ? this.engine.mapRuns.get(arn) : undefined;
    if (!run) throw new SfnServiceError('ResourceNotFound', `Map Run Does Not Exist: '${textField(arn) ?? display(arn)}'`);
    return run;
  }

  // --- status changes ----------------------------------------------------------------------------------------------

  private onStatusChange(runtime: ExecutionRuntime): void {
    const { record } = runtime;
    // Distributed Map children live in memory only and are reported through their map run, not EventBridge.
    if (record.parentExecutionArn || this.stopped) return;
    this.executionStore.write(record.executionArn, record);
    if (runtime.closed) {
      this.historyStore.write(record.executionArn, { executionArn: record.executionArn, events: runtime.history });
      // Children stay in the engine: ListExecutions(mapRunArn) and listExecutionRecords() read their records.
      this.engine.runtimes.delete(record.executionArn);
    }
    this.emit(record);
  }

  private emit(record: ExecutionRecord): void {
    // EventBridge receives status changes of Standard workflows only, as in AWS.
    if (record.type !== 'STANDARD') return;
    const event: ExecutionStatusChangeEvent = {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Step Functions Execution Status Change',
      source: 'aws.states',
      account: this.opts.accountId,
      time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: this.opts.region,
      resources: [record.executionArn],
      detail: {
        executionArn: record.executionArn,
        stateMachineArn: record.stateMachineArn,
        name: record.name,
        status: record.status,
        startDate: record.startDate,
        stopDate: record.stopDate ?? null,
        input: record.input,
        inputDetails: { included: true },
        output: record.output ?? null,
        outputDetails: record.output !== undefined ? { included: true } : null,
        error: record.error ?? null,
        cause: record.cause ?? null,
        stateMachineVersionArn: record.stateMachineVersionArn ?? null,
        stateMachineAliasArn: null,
        redriveCount: 0,
        redriveDate: null,
        redriveStatus: 'NOT_REDRIVABLE',
        redriveStatusReason:
          record.status === 'RUNNING' || record.status === 'SUCCEEDED'
            ? `Execution is ${record.status} and cannot be redriven`
            : 'Redrive is not supported by the local cloud',
      },
    };
    try {
      this.opts.onStatusChange(event);
    } catch (error) {
      this.opts.logger.error('step functions: status change listener failed', { executionArn: record.executionArn, error: String(error) });
    }
  }
}

function cached<T>(clients: Map<string, T>, key: string, make: () => T): T {
  let client = clients.get(key);
  if (client === undefined) clients.set(key, (client = make()));
  return client;
}
