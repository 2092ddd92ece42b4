import { Duration } from 'aws-cdk-lib';
import { Architecture, LoggingFormat, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, type NodejsFunctionProps } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { PolicyStatement, Role, ServicePrincipal, type IRole } from 'aws-cdk-lib/aws-iam';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { fileURLToPath } from 'node:url';
import { basename, dirname, join } from 'node:path';

const projectRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

export interface AgentplaneFunctionProps extends Partial<NodejsFunctionProps> {
  /** Folder under `lambdas/` holding `handler.ts` (`runs-api`, or an application's `migration/functions/agent-x`). */
  handlerDir: string;
}

/** `getItem`: reads by key and nothing else (no Query, no Scan). */
export type TableAccess = 'getItem' | 'read' | 'write' | 'readWrite' | 'stream';

/**
 * The one way Agentplane declares a Lambda: Node 22 on arm64, ESM bundle with source maps, X-Ray tracing,
 * JSON logs into a log group with bounded retention. `bindTable` / `bindBucket` grant and set the environment
 * together, so a function never gets a table name it may not use, nor a grant it is not told about.
 */
export class AgentplaneFunction extends NodejsFunction {
  /** The role made here; `Function.role` is optional only because imported functions have none. */
  readonly executionRole: IRole;

  constructor(scope: Construct, id: string, props: AgentplaneFunctionProps) {
    const { handlerDir, environment, bundling, ...rest } = props;
    const logGroup = new LogGroup(scope, `${id}Logs`, { retention: RetentionDays.ONE_MONTH });
    // Our own role, allowed to write to this function's log group only (not AWSLambdaBasicExecutionRole's logs:*).
    const role = new Role(scope, `${id}Role`, { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
    role.addToPolicy(
      new PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] }),
    );
    super(scope, id, {
      role,
      entry: join(projectRoot, 'lambdas', handlerDir, 'handler.ts'),
      handler: 'handler',
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: 512,
      timeout: Duration.seconds(29),
      tracing: Tracing.ACTIVE,
      loggingFormat: LoggingFormat.JSON,
      logGroup,
      depsLockFilePath: join(projectRoot, 'package-lock.json'),
      projectRoot,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: `agentplane-${basename(handlerDir)}`,
        POWERTOOLS_METRICS_NAMESPACE: 'Agentplane',
        ...environment,
      },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node22',
        sourceMap: true,
        sourcesContent: false,
        minify: true,
        // Error class names are part of the contract (Step Functions Retry/Catch match on them).
        keepNames: true,
        mainFields: ['module', 'main'],
        // The SDK is bundled, not taken from the runtime, so the versions in package-lock.json are the ones that run.
        externalModules: [],
        banner: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
        ...bundling,
      },
      ...rest,
    });
    this.executionRole = role;
  }

  bindTable(table: ITableV2, envName: string, access: TableAccess): this {
    this.addEnvironment(envName, table.tableName);
    if (access === 'getItem') table.grant(this, 'dynamodb:GetItem');
    else if (access === 'read') table.grantReadData(this);
    else if (access === 'write') table.grantWriteData(this);
    else if (access === 'readWrite') table.grantReadWriteData(this);
    else table.grantStreamRead(this);
    return this;
  }

  /**
   * Grants access to the objects matching `keys` only (`runs/*`: a run's workspace), never the whole bucket, and
   * sets the bucket's name in the environment.
   */
  bindBucket(bucket: IBucket, envName: string, access: 'read' | 'readWrite' | 'delete', keys: `${string}*`): this {
    this.addEnvironment(envName, bucket.bucketName);
    if (access === 'read') bucket.grantRead(this, keys);
    else bucket.grantReadWrite(this, keys);
    if (access === 'delete') bucket.grantDelete(this, keys);
    return this;
  }

  bindValue(envName: string, value: string): this {
    this.addEnvironment(envName, value);
    return this;
  }
}
