import { beforeAll, describe, expect, it } from 'vitest';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../../../bin/app';

// Bundling is skipped here: these tests look at the template, not at the code.
const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

/**
 * The parts of the synthesized template these tests read. Only what CloudFormation requires is non-optional;
 * a missing optional part fails the expectation that reads it (a TypeError is as loud as a failed expect).
 */
interface Statement {
  Action: string | string[];
  Effect: string;
  Resource?: unknown;
  Principal?: string | { AWS?: unknown };
}
interface PolicyDocument {
  Statement: Statement[];
}
interface CfnResource {
  Type: string;
  Properties: unknown;
}
interface LambdaFunction {
  Properties: {
    Runtime: string;
    Architectures: string[];
    TracingConfig: unknown;
    LoggingConfig: { LogGroup?: unknown };
    Environment: { Variables: Record<string, string | undefined> };
    Role: { 'Fn::GetAtt': [string, string] };
  };
}
interface IamRole {
  Properties: { ManagedPolicyArns?: unknown[] };
}
interface IamPolicy {
  Properties: { Roles: { Ref?: string }[]; PolicyDocument: PolicyDocument };
}
interface GlobalTable {
  Properties: {
    SSESpecification: { SSEEnabled: boolean };
    TimeToLiveSpecification: unknown;
    Replicas: { PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: boolean } }[];
    GlobalSecondaryIndexes?: { IndexName: string; KeySchema: { AttributeName: string }[] }[];
  };
}
interface Bucket {
  Properties: {
    PublicAccessBlockConfiguration: { BlockPublicPolicy: boolean };
    BucketEncryption: { ServerSideEncryptionConfiguration: { ServerSideEncryptionByDefault: { SSEAlgorithm: string } }[] };
    LifecycleConfiguration: { Rules: { Id: string }[] };
  };
}
interface BucketPolicy {
  Properties: { PolicyDocument: PolicyDocument };
}
interface EventSourceMapping {
  Properties: { FilterCriteria: { Filters: { Pattern: string }[] } };
}
interface ApiMethod {
  Properties: { AuthorizationType: string; HttpMethod: string };
}

/** The resources of one type; the caller casts them to the interface above that it reads. */
function resourcesOf(type: string): unknown[] {
  return Object.values(template.findResources(type));
}

let template: Template;
let resources: Record<string, CfnResource>;

beforeAll(() => {
  const { stack } = buildApp({ nag: false, context: NO_BUNDLING });
  template = Template.fromStack(stack);
  resources = (template.toJSON() as { Resources: Record<string, CfnResource> }).Resources;
});

function logicalIdStartingWith(prefix: string, type: string): string {
  const id = Object.keys(resources).find((k) => k.startsWith(prefix) && resources[k].Type === type);
  if (!id) throw new Error(`no ${type} starting with ${prefix}`);
  return id;
}

/** Every IAM statement attached to the role of the function whose logical id starts with `prefix`. */
function statementsOf(prefix: string): Statement[] {
  const fnId = logicalIdStartingWith(prefix, 'AWS::Lambda::Function');
  const roleRef = (resources[fnId].Properties as LambdaFunction['Properties']).Role['Fn::GetAtt'][0];
  return Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy')
    .map((r) => r.Properties as IamPolicy['Properties'])
    .filter((p) => p.Roles.some((x) => x.Ref === roleRef))
    .flatMap((p) => p.PolicyDocument.Statement);
}

const actionsOf = (statements: Statement[]) => statements.flatMap((s) => [s.Action].flat());

describe('Stack: Agentplane', () => {
  describe('Functions', () => {
    it('should run every function on nodejs22.x, arm64, with active tracing and a bounded log group', () => {
      const fns = resourcesOf('AWS::Lambda::Function') as LambdaFunction[];
      expect(fns.length).toBeGreaterThanOrEqual(10);
      for (const fn of fns) {
        expect(fn.Properties.Runtime).toBe('nodejs22.x');
        expect(fn.Properties.Architectures).toEqual(['arm64']);
        expect(fn.Properties.TracingConfig).toEqual({ Mode: 'Active' });
        expect(fn.Properties.LoggingConfig.LogGroup).toBeDefined();
        expect(fn.Properties.Environment.Variables.NODE_OPTIONS).toBe('--enable-source-maps');
      }
      template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: Match.anyValue() });
    });

    it('should not attach the AWS-managed basic execution role to any function', () => {
      for (const role of resourcesOf('AWS::IAM::Role') as IamRole[]) {
        const managed = JSON.stringify(role.Properties.ManagedPolicyArns ?? []);
        expect(managed).not.toContain('AWSLambdaBasicExecutionRole');
      }
    });
  });

  describe('IAM least privilege', () => {
    it('should never grant a wildcard action or a service-wide action', () => {
      for (const policy of resourcesOf('AWS::IAM::Policy') as IamPolicy[]) {
        for (const action of actionsOf(policy.Properties.PolicyDocument.Statement)) {
          expect(action).not.toBe('*');
          expect(action).not.toMatch(/^[a-z0-9-]+:\*$/);
        }
      }
    });

    it('should give the health function no data access at all', () => {
      const actions = actionsOf(statementsOf('Health'));
      expect(actions.filter((a) => a.startsWith('dynamodb:') || a.startsWith('s3:'))).toEqual([]);
    });

    it('should let the authorizer only get items of the tokens table by key (no Query, no Scan)', () => {
      const statements = statementsOf('Authorizer').filter((s) => actionsOf([s]).some((a) => a.startsWith('dynamodb:')));
      const tokensTable = logicalIdStartingWith('TablesTokens', 'AWS::DynamoDB::GlobalTable');
      expect(actionsOf(statements)).toEqual(['dynamodb:GetItem']);
      expect(JSON.stringify(statements.map((s) => s.Resource))).toContain(tokensTable);
      for (const other of ['TablesRuns', 'TablesEvents', 'TablesAgents', 'TablesWorkflows']) {
        expect(JSON.stringify(statements)).not.toContain(logicalIdStartingWith(other, 'AWS::DynamoDB::GlobalTable'));
      }
    });

    it('should scope each function to the tables it is bound to', () => {
      const workflows = JSON.stringify(statementsOf('WorkflowsApi'));
      expect(workflows).toContain(logicalIdStartingWith('TablesWorkflows', 'AWS::DynamoDB::GlobalTable'));
      expect(workflows).not.toContain(logicalIdStartingWith('TablesTokens', 'AWS::DynamoDB::GlobalTable'));
      const broadcaster = JSON.stringify(statementsOf('Broadcaster'));
      expect(broadcaster).toContain('execute-api:ManageConnections');
      expect(broadcaster).not.toContain(logicalIdStartingWith('TablesTokens', 'AWS::DynamoDB::GlobalTable'));
    });

    it('should confine the built-in agent to the runs/ area of the workspace bucket', () => {
      const resourcesJson = JSON.stringify(statementsOf('AgentsDiagnosticsDelay').filter((s) => actionsOf([s]).some((a) => a.startsWith('s3:'))).map((s) => s.Resource));
      expect(resourcesJson).toContain('/runs/*');
    });
  });

  describe('Storage', () => {
    it('should encrypt every table, keep point-in-time recovery and expire items by TTL', () => {
      const tables = resourcesOf('AWS::DynamoDB::GlobalTable') as GlobalTable[];
      expect(tables).toHaveLength(7);
      for (const table of tables) {
        expect(table.Properties.SSESpecification.SSEEnabled).toBe(true);
        expect(table.Properties.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
        expect(table.Properties.Replicas[0].PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled).toBe(true);
      }
    });

    it('should index connections by runId, agents by skill and runs by tenant (no Scan on request paths)', () => {
      const gsis = (resourcesOf('AWS::DynamoDB::GlobalTable') as GlobalTable[]).flatMap((t) =>
        (t.Properties.GlobalSecondaryIndexes ?? []).map((g) => `${g.IndexName}:${g.KeySchema[0].AttributeName}`),
      );
      expect(gsis).toEqual(expect.arrayContaining(['byRun:runId', 'bySkill:skill', 'byTenant:tenant']));
    });

    it('should keep the workspace bucket private, encrypted, TLS-only, with lifecycle rules', () => {
      const bucketId = logicalIdStartingWith('WorkspaceBucket', 'AWS::S3::Bucket');
      const bucket = resources[bucketId].Properties as Bucket['Properties'];
      expect(bucket.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      expect(bucket.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe('AES256');
      const rules = bucket.LifecycleConfiguration.Rules.map((r) => r.Id);
      expect(rules).toEqual(expect.arrayContaining(['abort-incomplete-uploads', 'expire-temp']));
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: bucketId },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    });

    it('should have no public access anywhere', () => {
      for (const bucket of resourcesOf('AWS::S3::Bucket') as Bucket[]) {
        expect(bucket.Properties.PublicAccessBlockConfiguration.BlockPublicPolicy).toBe(true);
      }
      for (const policy of resourcesOf('AWS::S3::BucketPolicy') as BucketPolicy[]) {
        for (const s of policy.Properties.PolicyDocument.Statement) {
          if (s.Principal === '*' || (typeof s.Principal === 'object' && s.Principal.AWS === '*')) expect(s.Effect).toBe('Deny');
        }
      }
    });
  });

  describe('Events stream to broadcaster', () => {
    it('should never retry forever and should report partial failures', () => {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        BisectBatchOnFunctionError: true,
        MaximumRetryAttempts: 10,
        MaximumRecordAgeInSeconds: 3600,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        StartingPosition: 'TRIM_HORIZON',
        ParallelizationFactor: 1,
        DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
      });
    });

    it('should hand the broadcaster new events only (not the per-run counter item, nor TTL removes)', () => {
      const mapping = (resourcesOf('AWS::Lambda::EventSourceMapping') as EventSourceMapping[])[0];
      const pattern: unknown = JSON.parse(mapping.Properties.FilterCriteria.Filters[0].Pattern);
      expect(pattern).toEqual({ eventName: ['INSERT'], dynamodb: { Keys: { seq: { N: [{ 'anything-but': ['0'] }] } } } });
    });

    it('should let event readers put Noop fillers but never update or delete events', () => {
      const events = logicalIdStartingWith('TablesEvents', 'AWS::DynamoDB::GlobalTable');
      for (const fn of ['Broadcaster', 'WsMessages', 'RunsApi']) {
        const onEvents = statementsOf(fn).filter((st) => JSON.stringify(st.Resource).includes(events));
        const actions = actionsOf(onEvents);
        expect(actions).toContain('dynamodb:PutItem');
        expect(actions).not.toContain('dynamodb:DeleteItem');
        // The runs API and the WebSocket's runs.command emit run events (the counter's atomic ADD); the broadcaster never does.
        if (fn === 'Broadcaster') expect(actions).not.toContain('dynamodb:UpdateItem');
      }
    });
  });

  describe('APIs', () => {
    it('should protect every REST method but GET /health and CORS preflight with the token authorizer', () => {
      const methods = resourcesOf('AWS::ApiGateway::Method') as ApiMethod[];
      const open = methods.filter((m) => m.Properties.AuthorizationType === 'NONE' && m.Properties.HttpMethod !== 'OPTIONS');
      expect(open).toHaveLength(1);
      const custom = methods.filter((m) => m.Properties.AuthorizationType === 'CUSTOM');
      expect(custom).toHaveLength(21);
    });

    it('should authorize WebSocket $connect with the token in the query string', () => {
      template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
        AuthorizerType: 'REQUEST',
        IdentitySource: ['route.request.querystring.token'],
      });
      template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: '$connect', AuthorizationType: 'CUSTOM' });
    });

    it('should send execution status changes of workflow state machines to the finalizer', () => {
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: Match.objectLike({ source: ['aws.states'], 'detail-type': ['Step Functions Execution Status Change'] }),
      });
    });
  });
});

describe('cdk-nag: AwsSolutions', () => {
  it('should synthesize with no unacknowledged finding', () => {
    const { app } = buildApp({ nag: true, context: NO_BUNDLING });
    expect(() => app.synth()).not.toThrow();
  });
});
