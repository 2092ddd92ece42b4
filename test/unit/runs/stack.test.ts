import { beforeAll, describe, expect, it } from 'vitest';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../../../bin/app';

/** The parts of the synthesized template these tests read (the template is JSON; the casts declare it). */
interface EventSourceMapping {
  Properties: {
    FunctionName: unknown;
    DestinationConfig: { OnFailure: { Destination?: unknown } };
    FilterCriteria: { Filters: { Pattern: string }[] };
    EventSourceArn: unknown;
  };
}
interface LambdaFunction {
  Properties: { Environment: { Variables: Record<string, unknown> } };
}
interface IamPolicy {
  Properties: { Roles: unknown; PolicyDocument: { Statement: { Action: string | string[]; Resource?: unknown }[] } };
}

describe('Construct: Runs', () => {
  let template: Template;
  beforeAll(() => {
    // Bundling is skipped: these tests look at the template, not at the code.
    const { stack } = buildApp({ nag: false, context: { 'aws:cdk:bundling-stacks': [] } });
    template = Template.fromStack(stack);
  }, 120_000);

  const fnLogicalId = (prefix: string) => Object.keys(template.findResources('AWS::Lambda::Function')).find((k) => k.startsWith(prefix))!;

  it('should hand the workspace janitor only TTL deletes of run records, with bounded retries and an on-failure queue', () => {
    const janitor = fnLogicalId('RunsWorkspaceJanitor');
    const mappings = (Object.values(template.findResources('AWS::Lambda::EventSourceMapping')) as EventSourceMapping[]).filter((m) => JSON.stringify(m.Properties.FunctionName).includes(janitor));
    expect(mappings).toHaveLength(1);
    const p = mappings[0].Properties;
    expect(p).toMatchObject({ BisectBatchOnFunctionError: true, MaximumRetryAttempts: 10, FunctionResponseTypes: ['ReportBatchItemFailures'] });
    expect(p.DestinationConfig.OnFailure.Destination).toBeDefined();
    expect(JSON.parse(p.FilterCriteria.Filters[0].Pattern)).toEqual({
      eventName: ['REMOVE'],
      userIdentity: { type: ['Service'], principalId: ['dynamodb.amazonaws.com'] },
      dynamodb: { Keys: { sk: { S: ['META'] } } },
    });
    expect(JSON.stringify(p.EventSourceArn)).toContain('TablesRuns');
  });

  it('should run the reconciliation sweep on a schedule', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      Targets: Match.arrayWith([Match.objectLike({ Arn: { 'Fn::GetAtt': [fnLogicalId('RunsSweeper'), 'Arn'] } })]),
    });
  });

  it('should let the state machines invoke the item gate and registration compile with it', () => {
    const itemGate = fnLogicalId('RunsItemGate');
    const policies = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    expect(policies).toContain(itemGate);
    const api = template.findResources('AWS::Lambda::Function')[fnLogicalId('WorkflowsApi')] as LambdaFunction;
    expect(api.Properties.Environment.Variables.ITEM_GATE_FUNCTION_ARN).toEqual({ 'Fn::GetAtt': [itemGate, 'Arn'] });
  });

  it('should give the runs API its tables, the gate to resume held steps, and StartExecution on workflow machines only', () => {
    const api = template.findResources('AWS::Lambda::Function')[fnLogicalId('RunsApi')] as LambdaFunction;
    expect(Object.keys(api.Properties.Environment.Variables)).toEqual(expect.arrayContaining(['RUNS_TABLE', 'EVENTS_TABLE', 'WORKFLOWS_TABLE', 'IDEMPOTENCY_TABLE', 'WORKSPACE_BUCKET', 'GATE_FUNCTION_ARN']));
    const statements = (Object.values(template.findResources('AWS::IAM::Policy')) as IamPolicy[])
      .filter((p) => JSON.stringify(p.Properties.Roles).includes('RunsApi'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
    const start = statements.find((s) => [s.Action].flat().includes('states:StartExecution'));
    expect(JSON.stringify(start!.Resource)).toContain(':stateMachine:agentplane-*');
  });
});
