/**
 * The invocation record Lambda sends to an asynchronous invocation's destination, in AWS's shape
 * (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html), so a consumer of the
 * destination queue reads the same JSON locally and on AWS.
 */
import type { LambdaResult } from '../types';

export type AsyncCondition = 'Success' | 'RetriesExhausted' | 'EventAgeExceeded';

/** The payload a Node.js runtime reports for a function error (what a synchronous Invoke returns too). */
export interface FunctionErrorPayload {
  errorType: string;
  errorMessage: string;
  trace: string[];
}

export interface InvocationRecord {
  version: '1.0';
  timestamp: string;
  requestContext: {
    requestId: string;
    /** Qualified: `arn:…:function:name:$LATEST`. */
    functionArn: string;
    condition: AsyncCondition;
    approximateInvokeCount: number;
  };
  requestPayload: unknown;
  /** Absent when the event aged out before any attempt: there is no response to report. */
  responseContext?: { statusCode: 200; executedVersion: '$LATEST'; functionError?: 'Unhandled' };
  responsePayload?: unknown;
}

export function errorPayloadOf(result: Extract<LambdaResult, { ok: false }>): FunctionErrorPayload {
  return { errorType: result.errorType, errorMessage: result.errorMessage, trace: result.trace ?? [] };
}

export interface RecordInput {
  requestId: string;
  /** Unqualified function ARN; the record names `$LATEST`, the only version that runs locally. */
  functionArn: string;
  condition: AsyncCondition;
  attempts: number;
  requestPayload: unknown;
  /** The last attempt's result, if there was one. */
  lastResult?: LambdaResult;
  now: Date;
}

export function invocationRecord(input: RecordInput): InvocationRecord {
  const record: InvocationRecord = {
    version: '1.0',
    timestamp: input.now.toISOString(),
    requestContext: {
      requestId: input.requestId,
      functionArn: `${input.functionArn}:$LATEST`,
      condition: input.condition,
      approximateInvokeCount: input.attempts,
    },
    requestPayload: input.requestPayload,
  };
  const last = input.lastResult;
  if (last?.ok) {
    record.responseContext = { statusCode: 200, executedVersion: '$LATEST' };
    record.responsePayload = last.payload ?? null;
  } else if (last) {
    record.responseContext = { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' };
    record.responsePayload = errorPayloadOf(last);
  }
  return record;
}
