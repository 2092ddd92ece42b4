/**
 * Shared types of the local cloud: the resolved CloudFormation template and the seams between the emulated
 * services (Lambda invoker, logger). Every emulator receives what it needs through these, so each can be
 * tested alone with a hand-made resolved template and a fake invoker.
 */
/**
 * Resolved CloudFormation properties: plain JSON (strings, numbers, booleans, arrays, objects) by field name. A field
 * may be absent and its shape is only what the template says, so each emulator narrows a field or casts the whole to
 * the properties interface it documents.
 */
export type ResolvedProperties = Record<string, unknown>;

/** A resource of the synthesized template after every intrinsic in its Properties was resolved. */
export interface ResolvedResource {
  logicalId: string;
  /** CloudFormation type, e.g. `AWS::Lambda::Function`. */
  type: string;
  /** Properties with Ref / Fn::GetAtt / Fn::Join / Fn::Sub / Fn::Select / pseudo parameters resolved to plain JSON. */
  properties: ResolvedProperties;
  /** What `Ref` of this resource resolves to (table name, bucket name, function name, API id, resource id, …). */
  physicalId: string;
  /** What `Fn::GetAtt [logicalId, Attr]` resolves to, e.g. `Arn`, `StreamArn`, `RootResourceId`. */
  attributes: Record<string, string>;
  /** Resource-level fields other than Properties (DependsOn, Metadata) as in the template. */
  metadata?: Record<string, unknown>;
}

export interface ResolvedTemplate {
  stackName: string;
  region: string;
  accountId: string;
  resources: Map<string, ResolvedResource>;
  /** Stack outputs, resolved. */
  outputs: Record<string, string>;
}

export type LambdaResult =
  | { ok: true; payload: unknown }
  | { ok: false; errorType: string; errorMessage: string; trace?: string[] };

export interface LambdaInvoker {
  /**
   * Invokes a local function by name, ARN or qualified ARN (`…:function:name:$LATEST`), like Lambda's
   * synchronous Invoke: a function error is returned as `{ok: false}`, never thrown. Throws
   * `ResourceNotFoundError` (name `ResourceNotFoundException`) for an unknown function. `requestBytes` is the
   * event's JSON size when the caller already has it (the Invoke API's body, a queued asynchronous event), so it
   * is not serialized again only to be measured.
   */
  invoke(functionRef: string, event: unknown, requestBytes?: number): Promise<LambdaResult>;
  /** True when the ref names a function of the local cloud. */
  has(functionRef: string): boolean;
}

/**
 * Lambda's asynchronous Invoke (`InvocationType: Event`, also how EventBridge invokes its targets): the event is
 * accepted into the function's queue and run later, under the function's EventInvokeConfig (retries, event age,
 * destinations). Throws `ResourceNotFoundError` for an unknown function, the only error the caller sees: function
 * errors never come back to it.
 */
export interface AsyncLambdaInvoker {
  invokeAsync(functionRef: string, event: unknown): { requestId: string };
}

export interface CloudLogger {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
  debug(message: string, extra?: Record<string, unknown>): void;
}

export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT_ID = '000000000000';

export function functionArn(name: string, region = LOCAL_REGION, accountId = LOCAL_ACCOUNT_ID): string {
  return `arn:aws:lambda:${region}:${accountId}:function:${name}`;
}

/** `name`, `arn:…:function:name` or `arn:…:function:name:qualifier` → `name`. */
export function functionNameOf(ref: string): string {
  const m = /^arn:aws[\w-]*:lambda:[^:]*:[^:]*:function:([^:]+)(?::[^:]+)?$/.exec(ref);
  return m ? m[1] : ref;
}

export class ResourceNotFoundError extends Error {
  override readonly name = 'ResourceNotFoundException';
}

/** Raised at start-up for a template the local cloud cannot stand up; the message names the resource. */
export class UnsupportedResourceError extends Error {
  override readonly name = 'UnsupportedResourceError';
}
