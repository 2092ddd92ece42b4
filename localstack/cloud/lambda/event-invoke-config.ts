/**
 * `AWS::Lambda::EventInvokeConfig`: how Lambda handles a function's asynchronous invocations (retries of function
 * errors, maximum event age, destinations). Read here from the resolved template and checked against what the
 * local cloud can honour, so an unsupported configuration stops the start-up with its reason instead of being
 * silently ignored.
 */
import { resourcesOfType } from '../template';
import { fieldText } from '../stepfunctions/json';
import { functionNameOf, UnsupportedResourceError, type ResolvedResource, type ResolvedTemplate } from '../types';

export interface AsyncInvokeConfig {
  /** Retries of a function error, 0–2. */
  maximumRetryAttempts: number;
  /** Age (60 s–6 h) after which an event still waiting for an attempt is discarded. */
  maximumEventAgeSeconds: number;
  /** SQS queue ARN that receives the invocation record of an event that failed every attempt or aged out. */
  onFailure?: string;
  /** SQS queue ARN that receives the invocation record of an event the function handled. */
  onSuccess?: string;
}

/** What Lambda does for a function without an EventInvokeConfig: two retries, events kept six hours. */
export const DEFAULT_ASYNC_INVOKE_CONFIG: AsyncInvokeConfig = Object.freeze({ maximumRetryAttempts: 2, maximumEventAgeSeconds: 21_600 });

const SQS_ARN = /^arn:aws[\w-]*:sqs:[^:]*:[^:]*:[^:]+$/;

function destinationOf(where: string, kind: 'OnFailure' | 'OnSuccess', value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  const arn = fieldText(value);
  // Lambda also sends records to a function, an SNS topic, an event bus or (on failure) a bucket; the local
  // cloud only has SQS, and pretending to deliver elsewhere would hide lost records.
  if (!SQS_ARN.test(arn)) {
    throw new UnsupportedResourceError(`${where}: ${kind} destination ${arn} cannot be honoured locally (only SQS queue destinations run locally)`);
  }
  // Lambda refuses FIFO queues as destinations.
  if (arn.endsWith('.fifo')) throw new Error(`${where}: ${kind} destination ${arn} is a FIFO queue; Lambda destinations must be standard queues`);
  return arn;
}

function integerIn(where: string, name: string, value: unknown, min: number, max: number, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${where}: ${name} must be an integer from ${min} to ${max} (got ${fieldText(value)})`);
  return n;
}

/** The function (by name) a resolved `AWS::Lambda::EventInvokeConfig` configures, and its configuration. */
export function eventInvokeConfigFromResource(resource: ResolvedResource): { functionName: string; config: AsyncInvokeConfig } {
  const p = resource.properties;
  const where = `${resource.logicalId} (AWS::Lambda::EventInvokeConfig)`;
  // Only $LATEST runs locally: versions and aliases are not stood up, so their configuration would never apply.
  if (p.Qualifier !== '$LATEST') {
    throw new UnsupportedResourceError(`${where}: qualifier ${String(p.Qualifier)} cannot be honoured locally (only $LATEST: versions and aliases are not stood up)`);
  }
  const destinations = (p.DestinationConfig ?? {}) as { OnFailure?: { Destination?: unknown }; OnSuccess?: { Destination?: unknown } };
  const config: AsyncInvokeConfig = {
    maximumRetryAttempts: integerIn(where, 'MaximumRetryAttempts', p.MaximumRetryAttempts, 0, 2, DEFAULT_ASYNC_INVOKE_CONFIG.maximumRetryAttempts),
    maximumEventAgeSeconds: integerIn(where, 'MaximumEventAgeInSeconds', p.MaximumEventAgeInSeconds, 60, 21_600, DEFAULT_ASYNC_INVOKE_CONFIG.maximumEventAgeSeconds),
  };
  const onFailure = destinationOf(where, 'OnFailure', destinations.OnFailure?.Destination);
  const onSuccess = destinationOf(where, 'OnSuccess', destinations.OnSuccess?.Destination);
  if (onFailure) config.onFailure = onFailure;
  if (onSuccess) config.onSuccess = onSuccess;
  return { functionName: functionNameOf(String(p.FunctionName)), config };
}

/**
 * Every EventInvokeConfig of the template, checked against it: the function and the destination queues must be
 * resources of the template (the local cloud reaches nothing outside it), one configuration per function.
 */
export function asyncInvokeConfigsOf(template: ResolvedTemplate): Array<{ functionName: string; config: AsyncInvokeConfig }> {
  const functions = new Set(resourcesOfType(template, 'AWS::Lambda::Function').map((f) => f.physicalId));
  const queues = new Set(resourcesOfType(template, 'AWS::SQS::Queue').map((q) => q.attributes.Arn));
  const seen = new Set<string>();
  return resourcesOfType(template, 'AWS::Lambda::EventInvokeConfig').map((resource) => {
    const where = `${resource.logicalId} (AWS::Lambda::EventInvokeConfig)`;
    const found = eventInvokeConfigFromResource(resource);
    if (!functions.has(found.functionName)) throw new UnsupportedResourceError(`${where}: function ${found.functionName} is not a function of the template`);
    if (seen.has(found.functionName)) throw new Error(`${where}: function ${found.functionName} already has an EventInvokeConfig for $LATEST`);
    seen.add(found.functionName);
    for (const destination of [found.config.onFailure, found.config.onSuccess]) {
      if (destination && !queues.has(destination)) throw new UnsupportedResourceError(`${where}: destination ${destination} is not a queue of the template`);
    }
    return found;
  });
}
