import { beforeAll, describe, expect, it } from 'vitest';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../../../bin/app';

// Bundling is skipped here: these tests look at the template, not at the code.
const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

let template: Template;
let resources: Record<string, any>;

beforeAll(() => {
  const { stack } = buildApp({ nag: false, context: NO_BUNDLING });
  template = Template.fromStack(stack);
  resources = template.toJSON().Resources;
});

function logicalIdStartingWith(prefix: string, type: string): string {
  const id = Object.keys(resources).find((k) => k.startsWith(prefix) && resources[k].Type === type);
  if (!id) throw new Error(`no ${type} starting with ${prefix}`);
  return id;
}

/** Every IAM statement attached to the role of the function whose logical id starts with `prefix`. */
function statementsOf(prefix: string): any[] {
  const fnId = logicalIdStartingWith(prefix, 'AWS::Lambda::Function');
  const roleRef = resources[fnId].Properties.Role['Fn::GetAtt'][0];
  return Object.values(resources)
    .filter((r: any) => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles.some((x: any) => x.Ref === roleRef))
    .flatMap((r: any) => r.Properties.PolicyDocument.Statement);
}

const actionsOf = (statements: any[]) => statements.flatMap((s) => [s.Action].flat());

describe('Stack: Agentplane', () => {
  describe('Functions', () => {
    it('should run every function on nodejs22.x, arm64, with active tracing and a bounded log group', () => {
      const fns = template.findResources('AWS::Lambda::Function');
      expect(Object.keys(fns).length).toBeGreaterThanOrEqual(10);
      for (const fn of Object.values<any>(fns)) {
        expect(fn.Properties.Runtime).toBe('nodejs22.x');
        expect(fn.Properties.Architectures).toEqual(['arm64']);
        expect(fn.Properties.TracingConfig).toEqual({ Mode: 'Active' });
        expect(fn.Properties.LoggingConfig.LogGroup).toBeDefined();
        expect(fn.Properties.Environment.Variables.NODE_OPTIONS).toBe('--enable-source-maps');
      }
      template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: Match.anyValue() });
    });

    it('should not attach the AWS-managed basic execution role to any function', () => {
      for (const role of Object.values<any>(template.findResources('AWS::IAM::Role'))) {
        const managed = JSON.stringify(role.Properties.ManagedPolicyArns ?? []);
        expect(managed).not.toContain('AWSLambdaBasicExecutionRole');
      }
    });
  });

  describe('IAM least privilege', () => {
    it('should never grant a wildcard action or a service-wide action', () => {
      for (const policy of Object.values<any>(template.findResources('AWS::IAM::Policy'))) {
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
      const tables = template.findResources('AWS::DynamoDB::GlobalTable');
      expect(Object.keys(tables)).toHaveLength(7);
      for (const table of Object.values<any>(tables)) {
        expect(table.Properties.SSESpecification.SSEEnabled).toBe(true);
        expect(table.Properties.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
        expect(table.Properties.Replicas[0].PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled).toBe(true);
      }
    });

    it('should index connections by runId, agents by skill and runs by tenant (no Scan on request paths)', () => {
      const gsis = Object.values<any>(template.findResources('AWS::DynamoDB::GlobalTable')).flatMap((t) =>
        (t.Properties.GlobalSecondaryIndexes ?? []).map((g: any) => `${g.IndexName}:${g.KeySchema[0].AttributeName}`),
      );
      expect(gsis).toEqual(expect.arrayContaining(['byRun:runId', 'bySkill:skill', 'byTenant:tenant']));
    });

    it('should keep the workspace bucket private, encrypted, TLS-only, with lifecycle rules', () => {
      const bucketId = logicalIdStartingWith('WorkspaceBucket', 'AWS::S3::Bucket');
      const bucket = resources[bucketId].Properties;
      expect(bucket.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      expect(bucket.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe('AES256');
      const rules = bucket.LifecycleConfiguration.Rules.map((r: any) => r.Id);
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
      for (const bucket of Object.values<any>(template.findResources('AWS::S3::Bucket'))) {
        expect(bucket.Properties.PublicAccessBlockConfiguration.BlockPublicPolicy).toBe(true);
      }
      for (const policy of Object.values<any>(template.findResources('AWS::S3::BucketPolicy'))) {
        for (const s of policy.Properties.PolicyDocument.Statement) {
          if (s.Principal === '*' || s.Principal?.AWS === '*') expect(s.Effect).toBe('Deny');
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
      const mapping = Object.values<any>(template.findResources('AWS::Lambda::EventSourceMapping'))[0];
      const pattern = JSON.parse(mapping.Properties.FilterCriteria.Filters[0].Pattern);
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
      const methods = Object.values<any>(template.findResources('AWS::ApiGateway::Method'));
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
