/**
 * What `cdk deploy` needs of the template: it synthesizes for any account and region (cdk-nag clean), named
 * deployments do not overlap, and every function has the grants AWS will ask for, scoped as narrowly as IAM allows.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp, type BuildAppOptions } from '../../../bin/app';
import { deploymentNames, DeploymentConfigError } from '../../../lib/deployment';

// Bundling is skipped here: these tests look at the template, not at the code.
const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };
/** The parts of the synthesized template these tests read (the template is JSON; the casts below declare it). */
interface CfnResource {
  Type: string;
  Properties: unknown;
}
type Resources = Record<string, CfnResource>;
interface Statement {
  Action: string | string[];
  Resource?: unknown;
  Condition?: { StringEquals: Record<string, unknown> };
}
interface FunctionProperties {
  Role: { 'Fn::GetAtt': [string, string] };
  Environment: { Variables: Record<string, unknown> };
}
interface PolicyProperties {
  Roles: { Ref?: string }[];
  PolicyDocument: { Statement: Statement[] };
}
interface RuleProperties {
  EventPattern?: { source?: string[]; detail: { stateMachineArn: unknown } };
}
interface EventInvokeConfigProperties {
  FunctionName: unknown;
  MaximumRetryAttempts: number;
  DestinationConfig: { OnFailure: { Destination: unknown } };
}
/** A `Fn::Join` in a policy's Resource: [separator, parts]. */
interface FnJoin {
  'Fn::Join': [string, unknown[]];
}

const resourcesOf = (template: Template) => (template.toJSON() as { Resources: Resources }).Resources;

function synth(options: BuildAppOptions = {}): Resources {
  const { stack } = buildApp({ nag: false, ...options, context: { ...NO_BUNDLING, ...options.context } });
  return resourcesOf(Template.fromStack(stack));
}

/** The properties of every resource of one type. */
const propertiesOfType = (resources: Resources, type: string): unknown[] =>
  Object.values(resources).filter((r) => r.Type === type).map((r) => r.Properties);

function idOf(resources: Resources, prefix: string, type: string): string {
  const id = Object.keys(resources).find((k) => k.startsWith(prefix) && resources[k].Type === type);
  if (!id) throw new Error(`no ${type} starting with ${prefix}`);
  return id;
}

const functionProperties = (resources: Resources, fnPrefix: string) =>
  resources[idOf(resources, fnPrefix, 'AWS::Lambda::Function')].Properties as FunctionProperties;

function statementsOf(resources: Resources, fnPrefix: string): Statement[] {
  const roleRef = functionProperties(resources, fnPrefix).Role['Fn::GetAtt'][0];
  return (propertiesOfType(resources, 'AWS::IAM::Policy') as PolicyProperties[])
    .filter((p) => p.Roles.some((x) => x.Ref === roleRef))
    .flatMap((p) => p.PolicyDocument.Statement);
}

const actions = (s: Statement): string[] => [s.Action].flat();
const withAction = (statements: Statement[], prefix: string) => statements.filter((s) => actions(s).some((a) => a.startsWith(prefix)));
const env = (resources: Resources, fnPrefix: string): Record<string, unknown> => functionProperties(resources, fnPrefix).Environment.Variables;

describe('Deployment: synthesis for any account and region', () => {
  const saved = { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };
  afterEach(() => {
    for (const [key, value] of [['CDK_DEFAULT_ACCOUNT', saved.account], ['CDK_DEFAULT_REGION', saved.region]] as const) {
      if (value === undefined) Reflect.deleteProperty(process.env, key);
      else process.env[key] = value;
    }
  });

  it('should pass cdk-nag with an account and region set, as the CDK CLI always sets them', () => {
    process.env.CDK_DEFAULT_ACCOUNT = '123456789012';
    process.env.CDK_DEFAULT_REGION = 'eu-west-1';
    const { app } = buildApp({ nag: true, context: NO_BUNDLING });
    expect(() => app.synth()).not.toThrow();
  });

  it('should build every ARN in a policy from the pseudo parameters, never from the literal account or region', () => {
    process.env.CDK_DEFAULT_ACCOUNT = '123456789012';
    process.env.CDK_DEFAULT_REGION = 'eu-west-1';
    const resources = synth();
    const policies = JSON.stringify(Object.values(resources).filter((r) => r.Type === 'AWS::IAM::Policy'));
    expect(policies).not.toContain('123456789012');
    expect(policies).not.toContain('eu-west-1');
  });
});

describe('Deployment: several per account and region (-c agentplane:name)', () => {
  it('should keep today\'s names without a name', () => {
    expect(deploymentNames(undefined)).toEqual({ stackName: 'Agentplane', stateMachinePrefix: 'agentplane-' });
    const { stack } = buildApp({ nag: false, context: NO_BUNDLING });
    expect(stack.stackName).toBe('Agentplane');
  });

  it('should name the stack, the state machine prefix and every grant and rule after the deployment', () => {
    const { stack } = buildApp({ nag: false, context: { ...NO_BUNDLING, 'agentplane:name': 'staging' } });
    expect(stack.stackName).toBe('Agentplane-staging');
    const resources = resourcesOf(Template.fromStack(stack));
    expect(env(resources, 'WorkflowsApi')).toMatchObject({ STATE_MACHINE_NAME_PREFIX: 'agentplane_staging-', DEPLOYMENT_NAME: 'staging' });
    const text = JSON.stringify(resources);
    expect(text).toContain('stateMachine:agentplane_staging-*');
    expect(text).not.toContain('stateMachine:agentplane-*');
    const rule = (propertiesOfType(resources, 'AWS::Events::Rule') as RuleProperties[]).find((p) => p.EventPattern?.source?.[0] === 'aws.states');
    expect(JSON.stringify(rule!.EventPattern!.detail.stateMachineArn)).toContain(':stateMachine:agentplane_staging-');
  });

  it('should refuse a name that could make one deployment\'s prefix match another\'s', () => {
    for (const bad of ['Staging', 'stag-ing', 'stag_ing', '1abc', 'a'.repeat(21)]) {
      expect(() => deploymentNames(bad), bad).toThrow(DeploymentConfigError);
    }
    // `agentplane-*` (default) and `agentplane_<name>-*` never match each other's machines.
    const named = deploymentNames('eu').stateMachinePrefix;
    expect(named.startsWith('agentplane-')).toBe(false);
    expect(deploymentNames('eu2').stateMachinePrefix.startsWith(named)).toBe(false);
  });
});

describe('Deployment: grants AWS will ask for', () => {
  let resources: Resources;
  beforeAll(() => {
    resources = synth();
  });

  it('should answer task tokens with SendTask* on "*" only, as IAM documents it (no resource-level permission)', () => {
    const gate = withAction(statementsOf(resources, 'WorkflowsGate'), 'states:SendTask');
    expect(gate.flatMap(actions).sort()).toEqual(['states:SendTaskFailure', 'states:SendTaskSuccess']);
    for (const fn of ['WorkflowsGate', 'RunsItemGate', 'RunsSweeper', 'Finalizer', 'RunsApi', 'WsMessages']) {
      const statements = withAction(statementsOf(resources, fn), 'states:SendTask');
      expect(statements.length, fn).toBeGreaterThan(0);
      for (const s of statements) expect(s.Resource, fn).toBe('*');
    }
  });

  it('should give functions that only touch runs the runs/ area of the bucket, not the whole bucket', () => {
    const bucket = idOf(resources, 'WorkspaceBucket', 'AWS::S3::Bucket');
    const objectScopes = (fn: string) =>
      withAction(statementsOf(resources, fn), 's3:')
        .flatMap((s) => [s.Resource].flat())
        .filter((r): r is FnJoin => typeof r === 'object' && r !== null && 'Fn::Join' in r && Boolean(r['Fn::Join']))
        .map((r) => r['Fn::Join'][1].at(-1));
    for (const fn of ['RunsApi', 'Finalizer', 'RunsWorkspaceJanitor', 'RunsItemGate', 'RunsSweeper', 'WorkflowsGate', 'WorkflowsReporter', 'WsMessages', 'AgentsDiagnosticsDelay', 'AgentsJavaGeneration']) {
      const scopes = objectScopes(fn);
      expect(scopes.length, fn).toBeGreaterThan(0);
      for (const scope of scopes) expect(['/runs/*', '/workflows/*'], `${fn}: ${String(scope)}`).toContain(scope);
    }
    // Only the workflow bodies are outside runs/, and only the workflows and runs APIs see them.
    expect(objectScopes('RunsApi')).toContain('/workflows/*');
    expect(objectScopes('Finalizer')).not.toContain('/workflows/*');
    expect(JSON.stringify(resources)).toContain(bucket);
  });

  it('should give the finalizer an on-failure destination and a retry count for its asynchronous invocations', () => {
    const config = (propertiesOfType(resources, 'AWS::Lambda::EventInvokeConfig') as EventInvokeConfigProperties[])[0];
    expect(config.FunctionName).toEqual({ Ref: idOf(resources, 'Finalizer', 'AWS::Lambda::Function') });
    expect(config.MaximumRetryAttempts).toBe(2);
    const queue = idOf(resources, 'EngineFinalizerFailures', 'AWS::SQS::Queue');
    expect(config.DestinationConfig.OnFailure.Destination).toEqual({ 'Fn::GetAtt': [queue, 'Arn'] });
    const send = withAction(statementsOf(resources, 'Finalizer'), 'sqs:SendMessage');
    expect(JSON.stringify(send.map((s) => s.Resource))).toContain(queue);
  });

  it('should default the LLM agents to Bedrock with InvokeModel on the configured foundation model only', () => {
    for (const fn of ['AgentsJavaGeneration', 'AgentsJavaValidation']) {
      expect(env(resources, fn)).toMatchObject({ AGENTPLANE_LLM_PROVIDER: 'bedrock', AGENTPLANE_LLM_MODEL: 'amazon.nova-pro-v1:0' });
      const bedrock = withAction(statementsOf(resources, fn), 'bedrock:');
      expect(bedrock.flatMap(actions)).toEqual(['bedrock:InvokeModel']);
      expect(JSON.stringify(bedrock[0].Resource)).toContain('::foundation-model/amazon.nova-pro-v1:0');
    }
    for (const fn of ['AgentsCobolAnalysis', 'AgentsDiagnosticsDelay', 'RunsApi']) {
      expect(withAction(statementsOf(resources, fn), 'bedrock:'), fn).toEqual([]);
    }
  });

  it('should grant an inference profile and its foundation model in every region it routes to, through the profile only', () => {
    const r = synth({ context: { 'agentplane:llmModel': 'eu.anthropic.claude-3-7-sonnet-20250219-v1:0', 'agentplane:llmRegion': 'eu-west-1' } });
    const bedrock = withAction(statementsOf(r, 'AgentsJavaGeneration'), 'bedrock:');
    const text = JSON.stringify(bedrock);
    expect(text).toContain(':bedrock:eu-west-1:');
    expect(text).toContain(':inference-profile/eu.anthropic.claude-3-7-sonnet-20250219-v1:0');
    for (const region of ['eu-central-1', 'eu-north-1', 'eu-south-1', 'eu-south-2', 'eu-west-1', 'eu-west-3']) {
      expect(text).toContain(`:bedrock:${region}::foundation-model/anthropic.claude-3-7-sonnet-20250219-v1:0`);
    }
    const models = bedrock.find((s) => JSON.stringify(s.Resource).includes('foundation-model'));
    expect(JSON.stringify(models!.Condition!.StringEquals['bedrock:InferenceProfileArn'])).toContain(':inference-profile/eu.anthropic');
    const narrowed = synth({ context: { 'agentplane:llmModel': 'us.amazon.nova-pro-v1:0', 'agentplane:llmProfileRegions': 'us-east-1,us-west-2' } });
    const narrowedText = JSON.stringify(withAction(statementsOf(narrowed, 'AgentsJavaGeneration'), 'bedrock:'));
    expect(narrowedText).toContain(':bedrock:us-west-2::foundation-model/amazon.nova-pro-v1:0');
    expect(narrowedText).not.toContain('us-east-2');
  });

  it('should grant GetSecretValue on the configured secret only (with its random suffix) for an OpenAI-compatible endpoint', () => {
    const r = synth({ context: { 'agentplane:llmProvider': 'openai', 'agentplane:llmModel': 'gpt-4o-mini', 'agentplane:llmBaseUrl': 'https://llm.example.com/v1', 'agentplane:llmApiKeySecret': 'agentplane/openai' } });
    const fn = statementsOf(r, 'AgentsJavaGeneration');
    expect(withAction(fn, 'bedrock:')).toEqual([]);
    const secrets = withAction(fn, 'secretsmanager:');
    expect(secrets.flatMap(actions)).toEqual(['secretsmanager:GetSecretValue']);
    expect(JSON.stringify(secrets[0].Resource)).toContain(':secret:agentplane/openai-??????');
    expect(withAction(fn, 'ssm:')).toEqual([]);
    expect(env(r, 'AgentsJavaGeneration')).toMatchObject({ AGENTPLANE_LLM_PROVIDER: 'openai', AGENTPLANE_LLM_API_KEY_SECRET: 'agentplane/openai' });
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:llm-key-AbCdEf';
    const exact = withAction(statementsOf(synth({ context: { 'agentplane:llmProvider': 'openai', 'agentplane:llmModel': 'm', 'agentplane:llmBaseUrl': 'https://x', 'agentplane:llmApiKeySecret': arn } }), 'AgentsJavaGeneration'), 'secretsmanager:');
    expect(exact[0].Resource).toBe(arn);
  });

  it('should grant ssm:GetParameter on the configured parameter only', () => {
    const r = synth({ context: { 'agentplane:llmProvider': 'openai', 'agentplane:llmModel': 'gpt-4o-mini', 'agentplane:llmBaseUrl': 'https://x/v1', 'agentplane:llmApiKeyParameter': '/agentplane/openai-key' } });
    const ssm = withAction(statementsOf(r, 'AgentsJavaValidation'), 'ssm:');
    expect(ssm.flatMap(actions)).toEqual(['ssm:GetParameter']);
    expect(JSON.stringify(ssm[0].Resource)).toContain(':parameter/agentplane/openai-key');
    expect(withAction(statementsOf(r, 'AgentsJavaValidation'), 'secretsmanager:')).toEqual([]);
  });

  it('should keep the offline provider, with no LLM grant at all, in the local cloud', () => {
    const r = synth({ local: true });
    expect(env(r, 'AgentsJavaGeneration')).toMatchObject({ AGENTPLANE_LLM_PROVIDER: 'offline' });
    for (const prefix of ['bedrock:', 'secretsmanager:', 'ssm:']) expect(withAction(statementsOf(r, 'AgentsJavaGeneration'), prefix)).toEqual([]);
  });

  it('should never synthesize an API key itself into the template', () => {
    process.env.AGENTPLANE_LLM_API_KEY = 'sk-should-never-appear';
    try {
      expect(JSON.stringify(synth({ local: true }))).not.toContain('sk-should-never-appear');
    } finally {
      delete process.env.AGENTPLANE_LLM_API_KEY;
    }
  });
});
