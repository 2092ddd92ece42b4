import { createServer } from 'node:net';
import type { LambdaInvoker, LambdaResult } from '../../../../localstack/cloud/types';
import type { LambdaDynamoDbRecord } from '../../../../localstack/cloud/streams';

export const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => { resolve(port); });
    });
  });
}

/** Polls a condition until it holds or the deadline passes; the failure message says what was awaited. */
export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export interface RecordedCall {
  functionRef: string;
  records: LambdaDynamoDbRecord[];
  result: LambdaResult;
}

/** A LambdaInvoker whose single function is `handler`; every call and its result is recorded. */
export class FakeInvoker implements LambdaInvoker {
  readonly calls: RecordedCall[] = [];

  constructor(public handler: (records: LambdaDynamoDbRecord[]) => LambdaResult | Promise<LambdaResult> = () => ({ ok: true, payload: null })) {}

  has(): boolean {
    return true;
  }

  async invoke(functionRef: string, event: unknown): Promise<LambdaResult> {
    const records = (event as { Records: LambdaDynamoDbRecord[] }).Records;
    const result = await this.handler(records);
    this.calls.push({ functionRef, records, result });
    return result;
  }

  /** Records of the invocations that succeeded (for ReportBatchItemFailures callers, see the test). */
  succeededRecords(): LambdaDynamoDbRecord[] {
    return this.calls.filter((c) => c.result.ok).flatMap((c) => c.records);
  }
}

export const fail = (message = 'boom'): LambdaResult => ({ ok: false, errorType: 'Error', errorMessage: message });
export const ok = (payload: unknown = null): LambdaResult => ({ ok: true, payload });

export function numberOf(record: LambdaDynamoDbRecord): number {
  const image = record.dynamodb.NewImage ?? record.dynamodb.OldImage;
  return Number((image?.n as { N: string } | undefined)?.N);
}
