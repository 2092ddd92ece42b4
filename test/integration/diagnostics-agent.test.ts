import { describe, expect, it } from 'vitest';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { target } from '../support/target';
import type { AgentAnswer } from './agents/support';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

describe('Agent: diagnostics.delay on the local cloud', () => {
  const t = target();
  const lambda = new LambdaClient({ endpoint: t.endpoints!.lambda, region: t.region, credentials });
  const s3 = new S3Client({ endpoint: t.endpoints!.s3, region: t.region, credentials, forcePathStyle: true });
  const fn = Object.entries(t.resources!.functions).find(([id]) => id.startsWith('AgentsDiagnosticsDelay'))![1];
  const bucket = Object.entries(t.resources!.buckets).find(([id]) => id.startsWith('WorkspaceBucket'))![1];

  async function invoke(payload: unknown) {
    const out = await lambda.send(new InvokeCommand({ FunctionName: fn, Payload: Buffer.from(JSON.stringify(payload)) }));
    return { functionError: out.FunctionError, body: JSON.parse(Buffer.from(out.Payload!).toString('utf8')) as AgentAnswer };
  }

  it('should write each item to the run outputs and fail the items matching failPattern', async () => {
    const runId = `diag-${Date.now()}`;
    const { functionError, body } = await invoke({
      runId,
      stepId: 'probe',
      items: [{ key: 'inputs/a.cbl' }, { key: 'inputs/bad-1.cbl' }, { key: 'inputs/b.cbl' }],
      workspace: { bucket, prefix: `runs/${runId}/` },
      config: { delayMs: 5, failPattern: 'bad-' },
    });
    expect(functionError).toBeUndefined();
    expect(body.results!.map((r) => r.status)).toEqual(['succeeded', 'failed', 'succeeded']);
    expect(body.results![1].error!.type).toBe('DiagnosticFailure');
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `runs/${runId}/` }));
    expect(listed.Contents!.map((o) => o.Key).sort()).toEqual([`runs/${runId}/outputs/probe/inputs/a.cbl.json`, `runs/${runId}/outputs/probe/inputs/b.cbl.json`]);
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: body.results![0].outputKey }));
    expect(JSON.parse(await object.Body!.transformToString())).toMatchObject({ runId, stepId: 'probe', item: { key: 'inputs/a.cbl' } });
  });

  it('should refuse a workspace prefix that is not the run own prefix, writing nothing', async () => {
    const runId = `diag-x-${Date.now()}`;
    const { functionError, body } = await invoke({
      runId,
      stepId: 'probe',
      items: [{ key: 'a' }],
      workspace: { bucket, prefix: 'runs/someone-else/' },
      config: {},
    });
    expect(functionError).toBe('Unhandled');
    expect(body.errorType).toBe('Agentplane.Fatal');
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'runs/someone-else/' }));
    expect(listed.KeyCount ?? 0).toBe(0);
  });

  it('should reject a malformed agent input with a typed error naming the path', async () => {
    const { functionError, body } = await invoke({ stepId: 'probe', items: 'nope' });
    expect(functionError).toBe('Unhandled');
    expect(body.errorType).toBe('Agentplane.Fatal');
    expect(body.errorMessage).toMatch(/runId|items/);
  });
});
