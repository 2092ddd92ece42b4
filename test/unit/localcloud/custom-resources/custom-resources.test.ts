import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CustomResourceError, runCustomResources, stringifyScalars } from '../../../../localstack/cloud/custom-resources';
import { checkSupported } from '../../../../localstack/cloud/local-cloud';
import type { LambdaInvoker, LambdaResult, ResolvedResource, ResolvedTemplate } from '../../../../localstack/cloud/types';

const TOKEN = 'arn:aws:lambda:us-east-1:000000000000:function:seeder';
const quiet = { info() {}, warn() {}, error() {}, debug() {} };

function templateWith(resources: Array<Partial<ResolvedResource> & { logicalId: string; properties: Record<string, unknown> }>): ResolvedTemplate {
  return {
    stackName: 'Test',
    region: 'us-east-1',
    accountId: '000000000000',
    outputs: {},
    resources: new Map(resources.map((r) => [r.logicalId, { type: 'Custom::Thing', physicalId: 'x', attributes: {}, ...r }])),
  };
}

/** The CloudFormation custom resource request, as the tests read it. */
interface CustomResourceRequest {
  RequestType: 'Create' | 'Update' | 'Delete';
  ResponseURL: string;
  RequestId: string;
  LogicalResourceId: string;
  PhysicalResourceId?: string;
  [field: string]: unknown;
}

/** A service token that answers the ResponseURL as a real custom resource handler does. */
function fakeLambda(answer: (event: CustomResourceRequest) => { Status: string; Reason?: string; PhysicalResourceId?: string; Data?: object } | 'silent' | 'crash') {
  const events: CustomResourceRequest[] = [];
  const invoker: LambdaInvoker = {
    has: (ref) => ref === TOKEN,
    async invoke(_ref, payload): Promise<LambdaResult> {
      const event = payload as CustomResourceRequest;
      events.push(event);
      const reply = answer(event);
      if (reply === 'crash') return { ok: false, errorType: 'Error', errorMessage: 'boom' };
      if (reply !== 'silent') {
        const res = await fetch(event.ResponseURL, { method: 'PUT', body: Buffer.from(JSON.stringify({ ...reply, RequestId: event.RequestId, LogicalResourceId: event.LogicalResourceId })) });
        expect(res.status).toBe(200);
      }
      return { ok: true, payload: null };
    },
  };
  return { invoker, events };
}

describe('Module: custom-resources', () => {
  let dir: string;
  afterEach(() => { rmSync(dir, { recursive: true, force: true }); });
  const stateFile = () => join(dir, 'custom-resources', 'state.json');

  describe('Function: runCustomResources', () => {
    it('should send Create with the CloudFormation request shape, then nothing on an unchanged restart, then Update with the old properties', async () => {
      dir = mkdtempSync(join(tmpdir(), 'cr-'));
      const { invoker, events } = fakeLambda(() => ({ Status: 'SUCCESS', PhysicalResourceId: 'thing-1', Data: { Answer: '42' } }));
      const v1 = templateWith([{ logicalId: 'Thing', properties: { ServiceToken: TOKEN, Size: 3, Nested: { On: true } } }]);
      expect(await runCustomResources({ template: v1, lambda: invoker, logger: quiet, stateFile: stateFile() })).toMatchObject({ created: ['Thing'] });
      expect(events[0]).toMatchObject({
        RequestType: 'Create',
        ServiceToken: TOKEN,
        StackId: expect.stringMatching(/^arn:aws:cloudformation:us-east-1:000000000000:stack\/Test\//) as unknown,
        LogicalResourceId: 'Thing',
        ResourceType: 'Custom::Thing',
        ResourceProperties: { ServiceToken: TOKEN, Size: '3', Nested: { On: 'true' } },
      });
      expect(events[0].ResponseURL).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
      expect(events[0].PhysicalResourceId).toBeUndefined();

      expect(await runCustomResources({ template: v1, lambda: invoker, logger: quiet, stateFile: stateFile() })).toMatchObject({ unchanged: ['Thing'] });
      expect(events).toHaveLength(1);

      const v2 = templateWith([{ logicalId: 'Thing', properties: { ServiceToken: TOKEN, Size: 4, Nested: { On: true } } }]);
      expect(await runCustomResources({ template: v2, lambda: invoker, logger: quiet, stateFile: stateFile() })).toMatchObject({ updated: ['Thing'] });
      expect(events[1]).toMatchObject({ RequestType: 'Update', PhysicalResourceId: 'thing-1', ResourceProperties: { Size: '4' }, OldResourceProperties: { Size: '3' } });
    });

    it('should delete a resource gone from the template, and the old physical id when an update replaced it', async () => {
      dir = mkdtempSync(join(tmpdir(), 'cr-'));
      let n = 0;
      const { invoker, events } = fakeLambda((e) => ({ Status: 'SUCCESS', PhysicalResourceId: e.RequestType === 'Update' ? `replaced-${++n}` : e.PhysicalResourceId ?? 'orig' }));
      await runCustomResources({ template: templateWith([{ logicalId: 'A', properties: { ServiceToken: TOKEN, V: 1 } }, { logicalId: 'B', properties: { ServiceToken: TOKEN } }]), lambda: invoker, logger: quiet, stateFile: stateFile() });
      const report = await runCustomResources({ template: templateWith([{ logicalId: 'A', properties: { ServiceToken: TOKEN, V: 2 } }]), lambda: invoker, logger: quiet, stateFile: stateFile() });
      expect(report).toMatchObject({ updated: ['A'], deleted: ['B'] });
      expect(events.slice(2).map((e) => `${e.RequestType} ${e.LogicalResourceId} ${String(e.PhysicalResourceId)}`)).toEqual(['Update A orig', 'Delete A orig', 'Delete B orig']);
    });

    it('should fail start-up naming the resource when the function answers FAILED, or crashes without answering', async () => {
      dir = mkdtempSync(join(tmpdir(), 'cr-'));
      const failed = fakeLambda(() => ({ Status: 'FAILED', Reason: 'table missing' }));
      const template = templateWith([{ logicalId: 'Seed', type: 'Custom::AgentRegistration', properties: { ServiceToken: TOKEN } }]);
      await expect(runCustomResources({ template, lambda: failed.invoker, logger: quiet, stateFile: stateFile() })).rejects.toThrow(
        /Seed \(Custom::AgentRegistration\): Create FAILED: table missing/,
      );
      const crashed = fakeLambda(() => 'crash');
      await expect(runCustomResources({ template, lambda: crashed.invoker, logger: quiet, stateFile: stateFile() })).rejects.toThrow(/Seed .*failed without answering CloudFormation: Error: boom/);
      const silent = fakeLambda(() => 'silent');
      await expect(runCustomResources({ template, lambda: silent.invoker, logger: quiet, stateFile: stateFile(), timeoutMs: 200 })).rejects.toThrow(CustomResourceError);
    });

    it('should refuse a service token that is not a local Lambda', async () => {
      dir = mkdtempSync(join(tmpdir(), 'cr-'));
      const { invoker } = fakeLambda(() => ({ Status: 'SUCCESS' }));
      const template = templateWith([{ logicalId: 'T', properties: { ServiceToken: 'arn:aws:sns:us-east-1:000000000000:topic' } }]);
      await expect(runCustomResources({ template, lambda: invoker, logger: quiet, stateFile: stateFile() })).rejects.toThrow(/T \(Custom::Thing\): service token .*sns.* is not a Lambda function/);
    });
  });

  describe('Function: stringifyScalars', () => {
    it('should turn numbers and booleans into strings as CloudFormation does, keeping structure', () => {
      expect(stringifyScalars({ a: 1, b: [true, 'x', { c: 2.5 }] })).toEqual({ a: '1', b: ['true', 'x', { c: '2.5' }] });
    });
  });

  describe('Function: checkSupported', () => {
    it('should accept Custom::* and AWS::CloudFormation::CustomResource types', () => {
      const assembly = { directory: '', stackName: 'T', assetDirs: new Map(), template: { Resources: { A: { Type: 'Custom::X' }, B: { Type: 'AWS::CloudFormation::CustomResource' } } } };
      expect(() => { checkSupported(assembly); }).not.toThrow();
    });
  });
});
