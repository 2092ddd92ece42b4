import { InvokeCommand, LambdaClient, ResourceNotFoundException } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLambdaApi } from '../../../../localstack/cloud/lambda/api';
import type { AsyncLambdaInvoker } from '../../../../localstack/cloud/types';
import { credentials, freePort } from '../streams/helpers';
import { FUNCTION, ScriptedFunction, fail, recordingLogger } from './helpers';

class RecordingAsync implements AsyncLambdaInvoker {
  readonly events: Array<{ functionRef: string; event: unknown }> = [];
  invokeAsync(functionRef: string, event: unknown): { requestId: string } {
    this.events.push({ functionRef, event });
    return { requestId: 'c2a6f2ae-7dbb-4d22-8782-d0485c9877e2' };
  }
}

describe('Function: startLambdaApi', () => {
  const fn = new ScriptedFunction([fail('sync failure')]);
  const asyncLambda = new RecordingAsync();
  // Undefined when beforeAll failed part-way, which afterAll must survive.
  let api: { url: string; close(): Promise<void> } | undefined;
  let client: LambdaClient | undefined;

  beforeAll(async () => {
    api = await startLambdaApi({ has: (ref) => fn.has(ref), invoke: (ref, event) => fn.invoke(ref, event), functions: () => [] }, asyncLambda, await freePort(), '127.0.0.1', recordingLogger());
    client = new LambdaClient({ endpoint: api.url, region: 'us-east-1', credentials });
  });
  afterAll(async () => {
    client?.destroy();
    await api?.close();
  });

  it('should queue an Event invocation with the async invoker and answer 202 with its request id', async () => {
    const response = await client!.send(new InvokeCommand({ FunctionName: FUNCTION, InvocationType: 'Event', Payload: Buffer.from('{"a":1}') }));

    expect(response.StatusCode).toBe(202);
    expect(response.$metadata.requestId).toBe('c2a6f2ae-7dbb-4d22-8782-d0485c9877e2');
    expect(asyncLambda.events).toEqual([{ functionRef: FUNCTION, event: { a: 1 } }]);
    expect(fn.calls).toHaveLength(0);
  });

  it('should still run a RequestResponse invocation at once and report its error', async () => {
    const response = await client!.send(new InvokeCommand({ FunctionName: FUNCTION, Payload: Buffer.from('{}') }));

    expect(response.FunctionError).toBe('Unhandled');
    expect(JSON.parse(Buffer.from(response.Payload!).toString())).toMatchObject({ errorType: 'TypeError', errorMessage: 'sync failure' });
  });

  it('should refuse an Event invocation of an unknown function', async () => {
    await expect(client!.send(new InvokeCommand({ FunctionName: 'ghost', InvocationType: 'Event', Payload: Buffer.from('{}') }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    expect(asyncLambda.events).toHaveLength(1);
  });
});
