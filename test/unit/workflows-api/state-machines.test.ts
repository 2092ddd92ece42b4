import { afterEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { CreateStateMachineCommand, SFNClient, TagResourceCommand, UpdateStateMachineCommand } from '@aws-sdk/client-sfn';
import { DefinitionRejectedError, sfnStateMachines } from '../../../lambdas/workflows-api/state-machines';

const sfn = mockClient(SFNClient);
const client = new SFNClient({ region: 'us-east-1' });
const named = (name: string) => Object.assign(new Error(name), { name });
const machines = () => sfnStateMachines({ client, roleArn: 'arn:aws:iam::1:role/sm', arnPrefix: 'arn:aws:states:us-east-1:1:stateMachine:', logGroupArn: 'arn:logs' });
const input = { name: 'agentplane-acme-wf-12345678', definition: '{}', description: 'wf' };

afterEach(() => sfn.reset());

describe('Function: sfnStateMachines', () => {
  describe('Method: deploy', () => {
    it('should create a new machine with a published version, logging, tracing and the role', async () => {
      sfn.on(CreateStateMachineCommand).resolves({ stateMachineArn: 'arn:sm', stateMachineVersionArn: 'arn:sm:1' });
      expect(await machines().deploy(input)).toEqual({ stateMachineArn: 'arn:sm', stateMachineVersionArn: 'arn:sm:1' });
      const sent = sfn.commandCalls(CreateStateMachineCommand)[0].args[0].input;
      expect(sent).toMatchObject({ name: input.name, type: 'STANDARD', publish: true, roleArn: 'arn:aws:iam::1:role/sm', tracingConfiguration: { enabled: true } });
      expect(sent.loggingConfiguration!.destinations![0].cloudWatchLogsLogGroup!.logGroupArn).toBe('arn:logs');
    });

    it('should update (and publish in the same call) a machine that exists', async () => {
      sfn.on(UpdateStateMachineCommand).resolves({ stateMachineVersionArn: 'arn:aws:states:us-east-1:1:stateMachine:agentplane-acme-wf-12345678:2' });
      const out = await machines().deploy({ ...input, exists: true });
      expect(out.stateMachineVersionArn).toMatch(/:2$/);
      expect(sfn.commandCalls(UpdateStateMachineCommand)[0].args[0].input).toMatchObject({ stateMachineArn: `arn:aws:states:us-east-1:1:stateMachine:${input.name}`, publish: true });
      expect(sfn.commandCalls(CreateStateMachineCommand)).toHaveLength(0);
    });

    it('should fall back to update when a concurrent registration created the machine first', async () => {
      sfn.on(CreateStateMachineCommand).rejects(named('StateMachineAlreadyExists'));
      sfn.on(UpdateStateMachineCommand).resolves({ stateMachineVersionArn: 'v2' });
      expect((await machines().deploy(input)).stateMachineVersionArn).toBe('v2');
    });

    it('should report a definition Step Functions refuses as DefinitionRejectedError', async () => {
      sfn.on(CreateStateMachineCommand).rejects(named('InvalidDefinition'));
      await expect(machines().deploy(input)).rejects.toBeInstanceOf(DefinitionRejectedError);
    });
  });
});

describe('Function: sfnStateMachines (tags)', () => {
  const tags = { 'agentplane:tenant': 'acme', 'agentplane:workflow': 'wf', 'agentplane:deployment': 'default' };

  it('should tag a machine it creates with tenant, workflow and deployment', async () => {
    sfn.on(CreateStateMachineCommand).resolves({ stateMachineArn: 'arn:sm', stateMachineVersionArn: 'arn:sm:1' });
    await machines().deploy({ ...input, tags });
    expect(sfn.commandCalls(CreateStateMachineCommand)[0].args[0].input.tags).toEqual([
      { key: 'agentplane:tenant', value: 'acme' },
      { key: 'agentplane:workflow', value: 'wf' },
      { key: 'agentplane:deployment', value: 'default' },
    ]);
    expect(sfn.commandCalls(TagResourceCommand)).toHaveLength(0);
  });

  it('should tag a machine it updates, since UpdateStateMachine carries no tags', async () => {
    sfn.on(UpdateStateMachineCommand).resolves({ stateMachineVersionArn: 'v2' });
    sfn.on(TagResourceCommand).resolves({});
    await machines().deploy({ ...input, exists: true, tags });
    const tagged = sfn.commandCalls(TagResourceCommand)[0].args[0].input;
    expect(tagged.resourceArn).toBe(`arn:aws:states:us-east-1:1:stateMachine:${input.name}`);
    expect(tagged.tags).toHaveLength(3);
  });
});
