import type { CloudLogger, LambdaInvoker, LambdaResult } from '../../../../localstack/cloud/types';
import type { DestinationSender } from '../../../../localstack/cloud/lambda/async-invoker';
import type { InvocationRecord } from '../../../../localstack/cloud/lambda/invocation-record';

export const FUNCTION = 'agentplane-finalizer';
export const FUNCTION_ARN = `arn:aws:lambda:us-east-1:000000000000:function:${FUNCTION}`;
export const FAILURES = 'arn:aws:sqs:us-east-1:000000000000:finalizer-failures';
export const SUCCESSES = 'arn:aws:sqs:us-east-1:000000000000:finalizer-successes';

export const fail = (message = 'boom'): LambdaResult => ({ ok: false, errorType: 'TypeError', errorMessage: message, trace: [`TypeError: ${message}`, '    at handler'] });
export const ok = (payload: unknown = null): LambdaResult => ({ ok: true, payload });

/** One function, answering with `results` in turn (the last one repeats); every call is recorded with its time. */
export class ScriptedFunction implements LambdaInvoker {
  readonly calls: Array<{ functionRef: string; event: unknown; at: number }> = [];
  /** Runs at every call, before it answers (e.g. to move a fake clock as a slow function would). */
  onCall: () => void = () => {};

  constructor(
    private readonly results: Array<LambdaResult | Error>,
    private readonly names: string[] = [FUNCTION],
  ) {}

  has(functionRef: string): boolean {
    return this.names.some((name) => functionRef === name || functionRef.endsWith(`:function:${name}`));
  }

  async invoke(functionRef: string, event: unknown): Promise<LambdaResult> {
    this.calls.push({ functionRef, event, at: Date.now() });
    this.onCall();
    const result = this.results[Math.min(this.calls.length - 1, this.results.length - 1)];
    if (result instanceof Error) throw result;
    return result;
  }
}

/** Destination queues that keep what they receive; `failWith` makes every send fail. */
export class CapturingDestinations implements DestinationSender {
  readonly sent: Array<{ destination: string; record: InvocationRecord }> = [];
  failWith?: Error;

  async send(destination: string, body: string): Promise<void> {
    if (this.failWith) throw this.failWith;
    this.sent.push({ destination, record: JSON.parse(body) as InvocationRecord });
  }
}

export type RecordingLogger = CloudLogger & { lines: Array<{ level: string; message: string; extra?: Record<string, unknown> }> };

export function recordingLogger(): RecordingLogger {
  const lines: RecordingLogger['lines'] = [];
  const at = (level: string) => (message: string, extra?: Record<string, unknown>) => void lines.push({ level, message, extra });
  return { lines, info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') };
}
