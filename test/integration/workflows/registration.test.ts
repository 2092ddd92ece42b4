import { describe, expect, it } from 'vitest';
import { DescribeStateMachineCommand, ListStateMachineVersionsCommand, ListTagsForResourceCommand } from '@aws-sdk/client-sfn';
import { http } from '../../support/target';
import type { WorkflowBody } from '../../support/api';

/** The part of an ASL definition this test reads. */
const statesOf = (definition: string | undefined) => (JSON.parse(definition!) as { States: Record<string, unknown> }).States;
import { register, sfnClient } from './support';

describe('Registration: state machines and their versions on the local Step Functions', () => {
  describe('Method: POST /workflows twice', () => {
    it("should publish a Step Functions version per workflow version and leave version 1's definition untouched", async () => {
      const id = `sm-versions-${Date.now().toString(36)}`;
      const v1 = await register({ id, steps: [{ id: 'a', capability: { skill: 'diagnostics.delay' } }] });
      const before = await sfnClient().send(new DescribeStateMachineCommand({ stateMachineArn: v1.stateMachineVersionArn }));
      const v2 = await register({ id, steps: [{ id: 'a', capability: { skill: 'diagnostics.delay' } }, { id: 'b', dependsOn: ['a'], capability: { skill: 'diagnostics.delay' } }] });

      expect(v2.stateMachineVersionArn).not.toBe(v1.stateMachineVersionArn);
      const after = await sfnClient().send(new DescribeStateMachineCommand({ stateMachineArn: v1.stateMachineVersionArn }));
      expect(after.definition).toBe(before.definition);
      const latest = await sfnClient().send(new DescribeStateMachineCommand({ stateMachineArn: v2.stateMachineVersionArn }));
      expect(Object.keys(statesOf(latest.definition))).toContain('b.gate');
      expect(Object.keys(statesOf(after.definition))).not.toContain('b.gate');

      // The stored ASL is the published one, byte for byte.
      const stored = await http<WorkflowBody>('GET', `/workflows/${id}?version=1`);
      expect(JSON.stringify(stored.body.asl)).toBe(before.definition);
      const versions = await sfnClient().send(new ListStateMachineVersionsCommand({ stateMachineArn: v1.stateMachineArn }));
      expect(versions.stateMachineVersions!.map((v) => v.stateMachineVersionArn)).toEqual(expect.arrayContaining([v1.stateMachineVersionArn, v2.stateMachineVersionArn]));
      // Run with the role the stack made for workflow machines, and with logging and tracing on.
      expect(latest.roleArn).toMatch(/^arn:aws:iam::/);
      expect(latest.tracingConfiguration?.enabled).toBe(true);
      expect(latest.loggingConfiguration?.level).toBe('ERROR');
    });
  });

  describe('Tags', () => {
    it('should tag the machine with tenant, workflow and deployment, and keep them when a new version is registered', async () => {
      const id = `sm-tags-${Date.now().toString(36)}`;
      const v1 = await register({ id, steps: [{ id: 'a', capability: { skill: 'diagnostics.delay' } }] });
      const expected: unknown = expect.arrayContaining([
        { key: 'agentplane:tenant', value: expect.any(String) as unknown },
        { key: 'agentplane:workflow', value: id },
        { key: 'agentplane:deployment', value: 'default' },
      ]);
      expect((await sfnClient().send(new ListTagsForResourceCommand({ resourceArn: v1.stateMachineArn }))).tags).toEqual(expected);
      await register({ id, steps: [{ id: 'a', capability: { skill: 'diagnostics.delay' } }, { id: 'b', dependsOn: ['a'], capability: { skill: 'diagnostics.delay' } }] });
      const tags = (await sfnClient().send(new ListTagsForResourceCommand({ resourceArn: v1.stateMachineArn }))).tags!;
      expect(tags).toEqual(expected);
      expect(tags).toHaveLength(3);
    });
  });
});
