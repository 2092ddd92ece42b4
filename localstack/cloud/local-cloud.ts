/**
 * Stands up a synthesized Agentplane template on this machine, from the template alone: DynamoDB Local, an S3
 * emulator, Lambda workers running the bundled assets, the REST and WebSocket APIs, stream mappings, Step
 * Functions, SQS and EventBridge. Nothing here knows Agentplane's resources by name: a wiring mistake in `lib/`
 * shows up as a failure here, as it would in AWS.
 */
import { mkdirSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PutItemCommand, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { startDynamoDbLocal } from './dynamodb-local';
import { ensureTable, localDynamoClient, tableTypes } from './dynamodb-tables';
import { ensureBucket, localS3Client, startLocalS3 } from './s3';
import { readAssembly, resolveTemplate, resourcesOfType, type CloudAssembly } from './template';
import { LambdaRuntime, functionFromResource } from './lambda/runtime';
import { startLambdaApi } from './lambda/api';
import { AsyncInvoker } from './lambda/async-invoker';
import { asyncInvokeConfigsOf } from './lambda/event-invoke-config';
import { LocalEventBridge } from './eventbridge';
import { assertPortFree, portsFrom } from './ports';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION, UnsupportedResourceError, type CloudLogger, type ResolvedTemplate } from './types';
import { startRestApi, startWebSocketApi } from './apigateway';
import { LocalSqs, queueAttributesOf } from './sqs';
import { StreamMappingRunner, type StreamMappingConfig } from './streams';
import { LocalStepFunctions, type CreateStateMachineInput } from './stepfunctions';
import { fieldText } from './stepfunctions/json';
import { hashToken, newToken, tokenId } from '../../lambdas/core/auth/tokens';
import { isCustomResourceType, runCustomResources } from './custom-resources';
import { IamAuthority } from './iam/authority';
import { startDynamoDbFront } from './dynamodb-front';
import { startS3Front } from './s3/front';

/** Types the local cloud stands up, and those it accepts as having no local effect (with the reason). */
const NO_LOCAL_EFFECT: Record<string, string> = {
  'AWS::IAM::Role': 'enforced by the local IAM (./iam): each function and state machine acts as its role',
  'AWS::IAM::Policy': 'enforced by the local IAM (./iam)',
  'AWS::IAM::ManagedPolicy': 'enforced by the local IAM (./iam)',
  'AWS::Lambda::Permission': 'enforced by the local IAM when API Gateway and EventBridge invoke (./iam)',
  'AWS::Logs::LogGroup': 'function logs go to .agentplane/logs/<logicalId>.log',
  'AWS::S3::BucketPolicy': 'enforced by the local IAM (loopback counts as secure transport)',
  'AWS::SQS::QueuePolicy': 'enforced by the local IAM (loopback counts as secure transport)',
  'AWS::ApiGateway::Account': 'account-level logging role',
  'AWS::ApiGateway::Deployment': 'deployments are implicit locally',
  'AWS::ApiGatewayV2::Deployment': 'deployments are implicit locally',
  'AWS::CDK::Metadata': 'CDK metadata',
};
const STOOD_UP = new Set([
  ...tableTypes(),
  'AWS::S3::Bucket',
  'AWS::Lambda::Function',
  'AWS::Lambda::EventSourceMapping',
  'AWS::Lambda::EventInvokeConfig',
  'AWS::SQS::Queue',
  'AWS::Events::Rule',
  'AWS::StepFunctions::StateMachine',
  'AWS::ApiGateway::RestApi',
  'AWS::ApiGateway::Resource',
  'AWS::ApiGateway::Method',
  'AWS::ApiGateway::Stage',
  'AWS::ApiGateway::Authorizer',
  'AWS::ApiGateway::GatewayResponse',
  'AWS::ApiGatewayV2::Api',
  'AWS::ApiGatewayV2::Route',
  'AWS::ApiGatewayV2::RouteResponse',
  'AWS::ApiGatewayV2::Integration',
  'AWS::ApiGatewayV2::Authorizer',
  'AWS::ApiGatewayV2::Stage',
]);

/** The fields of a resolved `AWS::Lambda::EventSourceMapping` the stream runner reads, as CloudFormation documents them. */
interface EventSourceMappingProperties {
  FunctionName?: string;
  EventSourceArn?: string;
  BatchSize?: number | string;
  StartingPosition?: StreamMappingConfig['startingPosition'];
  MaximumBatchingWindowInSeconds?: number;
  MaximumRetryAttempts?: number;
  MaximumRecordAgeInSeconds?: number;
  BisectBatchOnFunctionError?: boolean;
  FunctionResponseTypes?: string[];
  ParallelizationFactor?: number;
  TumblingWindowInSeconds?: number;
  Enabled?: boolean;
  FilterCriteria?: StreamMappingConfig['filterCriteria'];
  DestinationConfig?: { OnFailure?: { Destination?: string } };
}

/** The key schema of a resolved DynamoDB table, to find the tokens table by its partition key. */
interface TableKeyProperties {
  KeySchema?: Array<{ AttributeName?: string }>;
}

export function checkSupported(assembly: CloudAssembly): void {
  const unsupported = Object.entries(assembly.template.Resources).filter(
    ([, r]) => !STOOD_UP.has(r.Type) && !isCustomResourceType(r.Type) && !(r.Type in NO_LOCAL_EFFECT),
  );
  if (unsupported.length > 0) {
    throw new UnsupportedResourceError(
      `The local cloud cannot stand up ${unsupported.map(([id, r]) => `${id} (${r.Type})`).join(', ')}. ` +
        'Add support in localstack/cloud or deploy to LocalStack/AWS instead.',
    );
  }
  // Refused before anything starts: a destination the local cloud cannot deliver to would lose records silently.
  if (Object.values(assembly.template.Resources).some((r) => r.Type === 'AWS::Lambda::EventInvokeConfig')) {
    asyncInvokeConfigsOf(resolveTemplate(assembly, { region: LOCAL_REGION }));
  }
}

export interface LocalCloudOptions {
  /** A synthesized cloud assembly directory. */
  assemblyDir: string;
  stackName: string;
  dataDir: string;
  portBase: number;
  host?: string;
  fresh?: boolean;
  logger: CloudLogger;
  /** Upper bound of concurrent execution environments per function. */
  maxConcurrencyPerFunction?: number;
  /**
   * Waits before the first and second retry of an asynchronous invocation's function error, standing for AWS's
   * one and two minutes (default 1 s and 2 s; localstack/cloud/lambda/async-invoker.ts).
   */
  asyncRetryDelaysMs?: readonly [number, number];
  /** First and longest local waits after a throttled asynchronous attempt (default 100 ms, 2 s; ./lambda/async-invoker.ts). */
  asyncThrottleDelaysMs?: readonly [number, number];
  /** The account's concurrent executions (default AWS's 1000; ./lambda/limits.ts). */
  lambdaAccountConcurrency?: number;
  /** False turns IAM enforcement off, for debugging (`npm start -- --no-iam`); the ledger still records. Default true. */
  enforceIam?: boolean;
}

export interface LocalCloudConfig {
  restUrl: string;
  wsUrl: string;
  dashboardUrl: string;
  token: string;
  region: string;
  stackName: string;
  endpoints: { dynamodb: string; s3: string; stepfunctions: string; sqs: string; lambda: string };
  resources: { tables: Record<string, string>; buckets: Record<string, string>; functions: Record<string, string> };
  assemblyDir: string;
  pid: number;
  /** Child processes the local cloud owns (Ctrl-C stops them all). */
  processes: { dynamodb: number; s3: number };
  /** Whether IAM is enforced, and where the least-privilege ledger is written. */
  iam: { enforced: boolean; ledgerFile: string };
}

export interface LocalCloud {
  config: LocalCloudConfig;
  template: ResolvedTemplate;
  lambda: LambdaRuntime;
  iam: IamAuthority;
  stop(): Promise<void>;
}

function localApiRewriter(apiPorts: Map<string, number>, host: string) {
  return (value: string) =>
    value.replace(/(https|wss):\/\/([a-z0-9]+)\.execute-api\.[a-z0-9-]+\.amazonaws\.com/g, (match, scheme: string, apiId: string) => {
      const port = apiPorts.get(apiId);
      if (port === undefined) return match;
      return `${scheme === 'wss' ? 'ws' : 'http'}://${host}:${port}`;
    });
}

export async function startLocalCloud(options: LocalCloudOptions): Promise<LocalCloud> {
  const host = options.host ?? '127.0.0.1';
  const { logger } = options;
  const region = LOCAL_REGION;
  const ports = portsFrom(options.portBase);
  const dataDir = resolve(options.dataDir);
  const stops: Array<() => Promise<void> | void> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) {
      try {
        await stop();
      } catch (error) {
        logger.warn('stop failed', { error: String(error) });
      }
    }
  };

  const assembly = readAssembly(options.assemblyDir, options.stackName);
  checkSupported(assembly);
  for (const [service, port] of Object.entries(ports)) await assertPortFree(port, host, service);

  if (options.fresh) {
    for (const sub of ['dynamodb', 's3', 'stepfunctions', 'sqs', 'streams', 'local.json']) rmSync(join(dataDir, sub), { recursive: true, force: true });
  }
  for (const sub of ['dynamodb', 's3', 'stepfunctions', 'sqs', 'streams', 'logs']) mkdirSync(join(dataDir, sub), { recursive: true });

  try {
    // Storage first: tables and buckets exist before any function can run.
    const [dynamo, s3] = await Promise.all([
      startDynamoDbLocal({ port: ports.dynamodbBackend, dbPath: join(dataDir, 'dynamodb') }),
      startLocalS3({ port: ports.s3Backend, host, directory: join(dataDir, 's3') }),
    ]);
    stops.push(() => dynamo.stop(), () => s3.stop());
    // Clients reach storage through the authorizing fronts on the public ports (started once the template is known).
    const endpoints = {
      dynamodb: `http://${host}:${ports.dynamodb}`,
      s3: `http://${host}:${ports.s3}`,
      stepfunctions: `http://${host}:${ports.stepfunctions}`,
      sqs: `http://${host}:${ports.sqs}`,
      lambda: `http://${host}:${ports.lambda}`,
    };

    const ddb = localDynamoClient(dynamo.endpoint, region);
    const firstPass = resolveTemplate(assembly, { region });
    const overrides = new Map<string, { physicalId?: string; attributes?: Record<string, string> }>();
    for (const table of resourcesOfType(firstPass, ...tableTypes())) {
      const created = await ensureTable(ddb, table.logicalId, table.physicalId, table.properties);
      // The table's ARN as AWS spells it in the stack's region (DynamoDB Local answers region `ddblocal`), so policies
      // and requests name tables alike; streams keep DynamoDB Local's ARN, which is what its stream API accepts.
      const arn = `arn:aws:dynamodb:${region}:${LOCAL_ACCOUNT_ID}:table/${table.physicalId}`;
      overrides.set(table.logicalId, { attributes: { Arn: arn, ...(created.streamArn ? { StreamArn: created.streamArn } : {}) } });
    }
    const s3Client = localS3Client(s3.endpoint, region);
    for (const bucket of resourcesOfType(firstPass, 'AWS::S3::Bucket')) await ensureBucket(s3Client, bucket);

    // One REST and one WebSocket API get the fixed ports; further APIs would need their own.
    const restApis = resourcesOfType(firstPass, 'AWS::ApiGateway::RestApi');
    const wsApis = resourcesOfType(firstPass, 'AWS::ApiGatewayV2::Api').filter((a) => a.properties.ProtocolType === 'WEBSOCKET');
    if (restApis.length > 1 || wsApis.length > 1) throw new UnsupportedResourceError('The local cloud stands up at most one REST API and one WebSocket API');
    const apiPorts = new Map<string, number>();
    if (restApis[0]) apiPorts.set(restApis[0].physicalId, ports.rest);
    if (wsApis[0]) apiPorts.set(wsApis[0].physicalId, ports.websocket);

    const sqs = new LocalSqs({ region, accountId: LOCAL_ACCOUNT_ID, dataDir: join(dataDir, 'sqs'), logger, port: ports.sqs });
    const sqsServer = await sqs.listen(ports.sqs, host);
    stops.push(() => sqsServer.close(), () => sqs.stop());
    for (const queue of resourcesOfType(firstPass, 'AWS::SQS::Queue')) {
      const created = sqs.createQueue(queue.attributes.QueueName, queueAttributesOf(queue.properties));
      overrides.set(queue.logicalId, { physicalId: created.queueUrl, attributes: { Arn: created.queueArn, QueueUrl: created.queueUrl, QueueName: queue.attributes.QueueName } });
    }

    const template = resolveTemplate(assembly, { region, overrides, rewriteString: localApiRewriter(apiPorts, host) });

    const ledgerFile = join(dataDir, 'iam-ledger.json');
    const iam = new IamAuthority(template, { enforce: options.enforceIam !== false, ledgerFile });
    sqs.authorizeWith(iam);
    const ledgerTimer = setInterval(() => { iam.flushLedger(); }, 2_000);
    ledgerTimer.unref();
    stops.push(() => { clearInterval(ledgerTimer); iam.flushLedger(); });
    const keySchemas = new Map(
      resourcesOfType(template, ...tableTypes()).map((t) => [t.physicalId, (t.properties as TableKeyProperties).KeySchema?.at(0)?.AttributeName]),
    );
    const dynamoFront = await startDynamoDbFront({
      port: ports.dynamodb,
      host,
      backendEndpoint: dynamo.endpoint,
      authority: iam,
      location: iam.location,
      partitionKeyOf: (table) => keySchemas.get(table),
      logger,
    });
    stops.push(() => dynamoFront.close());
    const s3Front = await startS3Front({ port: ports.s3, host, backendEndpoint: s3.endpoint, authority: iam, logger, region, accountId: LOCAL_ACCOUNT_ID });
    stops.push(() => s3Front.close());
    /** Sends to a queue as a function's execution role, as Lambda delivers destination records. */
    const sendAsFunction = async (functionRef: string, queueArn: string, body: string) => {
      const roleArn = lambda.roleOf(functionRef);
      await sqs.sendMessage(queueArn, body, {}, roleArn === undefined ? undefined : iam.callerForRole(roleArn));
    };

    const lambda = new LambdaRuntime({
      logDir: join(dataDir, 'logs'),
      logger,
      baseEnvironment: {
        PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
        LANG: 'en_US.UTF-8',
        TZ: 'UTC',
        AWS_REGION: region,
        AWS_DEFAULT_REGION: region,
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
        AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
        AWS_ENDPOINT_URL_DYNAMODB_STREAMS: endpoints.dynamodb,
        AWS_ENDPOINT_URL_S3: endpoints.s3,
        AWS_ENDPOINT_URL_SFN: endpoints.stepfunctions,
        AWS_ENDPOINT_URL_SQS: endpoints.sqs,
        AWS_ENDPOINT_URL_LAMBDA: endpoints.lambda,
        AWS_XRAY_CONTEXT_MISSING: 'IGNORE_ERROR',
        POWERTOOLS_TRACE_ENABLED: 'false',
        POWERTOOLS_DEV: 'false',
        AGENTPLANE_LOCAL: 'true',
      },
      defaultMaxConcurrency: options.maxConcurrencyPerFunction ?? 16,
      accountConcurrency: options.lambdaAccountConcurrency,
      credentialsOf: (fn): Record<string, string> =>
        fn.roleArn === undefined ? {} : { AWS_ACCESS_KEY_ID: iam.accessKeyFor(fn.roleArn), AWS_SECRET_ACCESS_KEY: 'local' },
    });
    stops.push(() => lambda.stop());
    for (const fn of resourcesOfType(template, 'AWS::Lambda::Function')) {
      lambda.add(functionFromResource(fn, assembly.assetDirs, options.maxConcurrencyPerFunction ?? 16));
    }
    const asyncLambda = new AsyncInvoker({
      lambda,
      destinations: { send: (queueArn: string, body: string, functionName: string) => sendAsFunction(functionName, queueArn, body) },
      logger,
      region,
      accountId: LOCAL_ACCOUNT_ID,
      retryDelaysMs: options.asyncRetryDelaysMs,
      throttleDelaysMs: options.asyncThrottleDelaysMs,
    });
    for (const { functionName, config } of asyncInvokeConfigsOf(template)) asyncLambda.configure(functionName, config);
    stops.push(() => { asyncLambda.stop(); });
    const lambdaApi = await startLambdaApi(lambda, asyncLambda, ports.lambda, host, logger, iam);
    stops.push(() => lambdaApi.close());

    const bus = new LocalEventBridge({ region, accountId: LOCAL_ACCOUNT_ID, lambda: asyncLambda, logger, iam, deadLetters: sqs });
    stops.push(() => { bus.stop(); });
    for (const rule of resourcesOfType(template, 'AWS::Events::Rule')) bus.addRule(rule);

    const sfn = new LocalStepFunctions({
      region,
      accountId: LOCAL_ACCOUNT_ID,
      dataDir: join(dataDir, 'stepfunctions'),
      lambda,
      dynamodbEndpoint: endpoints.dynamodb,
      s3Endpoint: endpoints.s3,
      onStatusChange: (event) => { bus.put(event); },
      logger,
      iam,
    });
    await sfn.init();
    const sfnServer = await sfn.listen(ports.stepfunctions, host);
    stops.push(() => sfnServer.close(), () => sfn.stop());
    for (const sm of resourcesOfType(template, 'AWS::StepFunctions::StateMachine')) {
      const definition = typeof sm.properties.DefinitionString === 'string' ? sm.properties.DefinitionString : JSON.stringify(sm.properties.Definition);
      const type = sm.properties.StateMachineType as CreateStateMachineInput['type'];
      sfn.putStateMachine({ name: sm.attributes.Name, definition, roleArn: fieldText(sm.properties.RoleArn ?? ''), type });
    }

    for (const mapping of resourcesOfType(template, 'AWS::Lambda::EventSourceMapping')) {
      const p = mapping.properties as EventSourceMappingProperties;
      if (!String(p.EventSourceArn).includes(':dynamodb:')) {
        throw new UnsupportedResourceError(`${mapping.logicalId}: only DynamoDB stream event sources run locally (got ${String(p.EventSourceArn)})`);
      }
      const runner = new StreamMappingRunner({
        config: {
          uuid: mapping.physicalId,
          functionName: String(p.FunctionName),
          eventSourceArn: String(p.EventSourceArn),
          batchSize: Number(p.BatchSize ?? 100),
          startingPosition: p.StartingPosition ?? 'LATEST',
          maximumBatchingWindowInSeconds: p.MaximumBatchingWindowInSeconds,
          maximumRetryAttempts: p.MaximumRetryAttempts,
          maximumRecordAgeInSeconds: p.MaximumRecordAgeInSeconds,
          bisectBatchOnFunctionError: p.BisectBatchOnFunctionError,
          functionResponseTypes: p.FunctionResponseTypes,
          parallelizationFactor: p.ParallelizationFactor,
          tumblingWindowInSeconds: p.TumblingWindowInSeconds,
          enabled: p.Enabled !== false,
          filterCriteria: p.FilterCriteria,
          onFailureDestinationArn: p.DestinationConfig?.OnFailure?.Destination,
        },
        streamsEndpoint: endpoints.dynamodb,
        ...(lambda.roleOf(String(p.FunctionName)) === undefined ? {} : { accessKeyId: iam.accessKeyFor(lambda.roleOf(String(p.FunctionName)) ?? '') }),
        region,
        lambda,
        sqs: { sendMessage: (queueArn: string, body: string) => sendAsFunction(String(p.FunctionName), queueArn, body) },
        checkpointFile: join(dataDir, 'streams', `${mapping.logicalId}.json`),
        logger,
      });
      await runner.start();
      stops.push(() => runner.stop());
    }

    let restUrl = '';
    if (restApis[0]) {
      const rest = await startRestApi({ template, restApiLogicalId: restApis[0].logicalId, port: ports.rest, host, lambda, logger, iam });
      stops.push(() => rest.close());
      restUrl = rest.url;
    }
    let wsUrl = '';
    if (wsApis[0]) {
      const ws = await startWebSocketApi({ template, apiLogicalId: wsApis[0].logicalId, port: ports.websocket, host, lambda, logger, iam });
      stops.push(() => ws.close());
      wsUrl = ws.url;
    }

    // Custom resources last, as CloudFormation runs them once what they depend on exists (localstack/cloud/custom-resources.ts).
    await runCustomResources({ template, lambda, logger, host, fresh: options.fresh, stateFile: join(dataDir, 'custom-resources', 'state.json') });

    const token = await ensureDevToken(ddb, template, dataDir);
    const tables: Record<string, string> = {};
    for (const t of resourcesOfType(template, ...tableTypes())) tables[t.logicalId] = t.physicalId;
    const buckets: Record<string, string> = {};
    for (const b of resourcesOfType(template, 'AWS::S3::Bucket')) buckets[b.logicalId] = b.physicalId;
    const functions: Record<string, string> = {};
    for (const f of resourcesOfType(template, 'AWS::Lambda::Function')) functions[f.logicalId] = f.physicalId;

    const config: LocalCloudConfig = {
      restUrl,
      wsUrl,
      dashboardUrl: `http://${host}:${ports.dashboard}`,
      token,
      region,
      stackName: options.stackName,
      endpoints,
      resources: { tables, buckets, functions },
      assemblyDir: resolve(options.assemblyDir),
      pid: process.pid,
      processes: { dynamodb: dynamo.process.pid ?? 0, s3: s3.process.pid ?? 0 },
      iam: { enforced: iam.enforce, ledgerFile },
    };
    writeFileSync(join(dataDir, 'local.json'), JSON.stringify(config, null, 2) + '\n');
    stops.push(() => { rmSync(join(dataDir, 'local.json'), { force: true }); });
    return { config, template, lambda, iam, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/**
 * The development admin token: kept across restarts (persisted data keeps its hash), minted on a fresh start.
 * Written straight to the tokens table, as an operator bootstraps the first admin token in AWS.
 */
async function ensureDevToken(ddb: ReturnType<typeof localDynamoClient>, template: ResolvedTemplate, dataDir: string): Promise<string> {
  const tokensTable = [...template.resources.values()].find(
    (r) => tableTypes().includes(r.type) && (r.properties as TableKeyProperties).KeySchema?.at(0)?.AttributeName === 'tokenHash',
  );
  if (!tokensTable) return '';
  const tokenFile = join(dataDir, 'dev-token');
  if (existsSync(tokenFile)) {
    const saved = readFileSync(tokenFile, 'utf8').trim();
    const found = await ddb.send(new GetItemCommand({ TableName: tokensTable.physicalId, Key: { tokenHash: { S: hashToken(saved) } } }));
    if (found.Item) return saved;
  }
  const token = newToken();
  const hash = hashToken(token);
  await ddb.send(
    new PutItemCommand({
      TableName: tokensTable.physicalId,
      Item: {
        tokenHash: { S: hash },
        tokenId: { S: tokenId(hash) },
        tenant: { S: 'dev' },
        admin: { BOOL: true },
        name: { S: 'local development admin' },
        createdAt: { S: new Date().toISOString() },
      },
    }),
  );
  writeFileSync(tokenFile, token + '\n', { mode: 0o600 });
  return token;
}
