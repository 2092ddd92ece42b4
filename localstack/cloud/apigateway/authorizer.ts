/**
 * Lambda authorizers as API Gateway runs them: identity sources checked before the function is invoked,
 * the returned IAM policy evaluated against the method ARN of each request (so that a cached policy written
 * for one route can deny another, a classic surprise on AWS), and the result cached by identity.
 */
import { UnsupportedResourceError, type CloudLogger, type LambdaInvoker, type ResolvedResource } from '../types';
import { functionRefFromUri, headerValue } from './common';
import { fieldText } from '../stepfunctions/json';

export interface AuthorizerDef {
  logicalId: string;
  id: string;
  name: string;
  type: 'TOKEN' | 'REQUEST';
  functionRef: string;
  /** Raw identity source expressions, e.g. `method.request.header.Authorization`, `route.request.querystring.token`. */
  identitySources: string[];
  ttlSeconds: number;
  validationExpression?: RegExp;
}

/** What identity sources and policies are evaluated against. */
export interface AuthRequestData {
  headers: Record<string, string>;
  query: Record<string, string> | null;
  pathParameters?: Record<string, string> | null;
  stageVariables: Record<string, string> | null;
  context: Record<string, unknown>;
}

export type AuthOutcome =
  | { kind: 'allow'; principalId: string; context: Record<string, string>; integrationLatency: number }
  | { kind: 'unauthorized'; invoked: boolean }
  | { kind: 'deny'; explicit: boolean }
  /** AUTHORIZER_FAILURE: the function failed (other than `Unauthorized`); AUTHORIZER_CONFIGURATION_ERROR: bad output. */
  | { kind: 'error'; responseType: 'AUTHORIZER_FAILURE' | 'AUTHORIZER_CONFIGURATION_ERROR'; reason: string };

interface AuthorizerOutput {
  principalId: string;
  policyDocument: unknown;
  context: Record<string, string>;
}

export function parseRestAuthorizer(r: ResolvedResource): AuthorizerDef {
  const p = r.properties;
  const type = fieldText(p.Type ?? '').toUpperCase();
  if (type !== 'TOKEN' && type !== 'REQUEST') {
    throw new UnsupportedResourceError(
      `${r.logicalId} (AWS::ApiGateway::Authorizer): Type ${String(p.Type)} is not supported locally (only TOKEN and REQUEST Lambda authorizers)`,
    );
  }
  const sources = typeof p.IdentitySource === 'string' ? p.IdentitySource.split(',').map((s: string) => s.trim()).filter(Boolean) : [];
  return {
    logicalId: r.logicalId,
    id: r.physicalId,
    name: fieldText(p.Name ?? r.logicalId),
    type,
    functionRef: functionRefFromUri(p.AuthorizerUri, r),
    identitySources: sources.length > 0 || type === 'REQUEST' ? sources : ['method.request.header.Authorization'],
    ttlSeconds: p.AuthorizerResultTtlInSeconds === undefined ? 300 : Number(p.AuthorizerResultTtlInSeconds),
    validationExpression: p.IdentityValidationExpression ? new RegExp(`^(?:${fieldText(p.IdentityValidationExpression)})$`) : undefined,
  };
}

export function parseWebSocketAuthorizer(r: ResolvedResource): AuthorizerDef {
  const p = r.properties;
  if (fieldText(p.AuthorizerType ?? '').toUpperCase() !== 'REQUEST') {
    throw new UnsupportedResourceError(
      `${r.logicalId} (AWS::ApiGatewayV2::Authorizer): AuthorizerType ${String(p.AuthorizerType)} is not supported locally (only REQUEST Lambda authorizers)`,
    );
  }
  const raw = p.IdentitySource;
  const list: unknown[] = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : [];
  const sources = list.map((s) => String(s).trim()).filter(Boolean);
  return {
    logicalId: r.logicalId,
    id: r.physicalId,
    name: fieldText(p.Name ?? r.logicalId),
    type: 'REQUEST',
    functionRef: functionRefFromUri(p.AuthorizerUri, r),
    identitySources: sources,
    // WebSocket APIs authorize once per connection; API Gateway v2 has no result cache for them.
    ttlSeconds: 0,
  };
}

/** Value of one identity source expression; undefined when absent or empty (API Gateway treats both as missing). */
function identityValue(source: string, data: AuthRequestData): string | undefined {
  const m = /^(?:method|route)\.request\.(header|querystring|path)\.(.+)$/.exec(source);
  let v: unknown;
  if (m) {
    const [, where, name] = m;
    if (where === 'header') v = headerValue(data.headers, name);
    else if (where === 'querystring') v = data.query?.[name];
    else v = data.pathParameters?.[name];
  } else if (source.startsWith('stageVariables.')) {
    v = data.stageVariables?.[source.slice('stageVariables.'.length)];
  } else if (source.startsWith('context.')) {
    v = source
      .slice('context.'.length)
      .split('.')
      .reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), data.context);
  }
  return v === undefined || v === null || v === '' ? undefined : fieldText(v);
}

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

/**
 * IAM-style evaluation of the authorizer's policy for one method ARN: an explicit Deny wins, then an Allow,
 * otherwise an implicit deny. Throws on a policy API Gateway would reject as malformed.
 */
export function evaluatePolicy(policy: unknown, methodArn: string): 'allow' | 'deny' | 'implicit-deny' {
  if (!policy || typeof policy !== 'object') throw new Error('policyDocument is missing or not an object');
  const statements = asList((policy as Record<string, unknown>).Statement);
  if (statements.length === 0) throw new Error('policyDocument has no Statement');
  let allowed = false;
  for (const s of statements) {
    if (!s || typeof s !== 'object') throw new Error('policy statement is not an object');
    const st = s as Record<string, unknown>;
    const effect = fieldText(st.Effect ?? '').toLowerCase();
    if (effect !== 'allow' && effect !== 'deny') throw new Error(`policy statement has Effect ${String(st.Effect)}`);
    const actionOk = asList(st.Action).some((a) => globToRegExp(String(a).toLowerCase()).test('execute-api:invoke'));
    const resourceOk = asList(st.Resource).some((r) => globToRegExp(String(r)).test(methodArn));
    if (!actionOk || !resourceOk) continue;
    if (effect === 'deny') return 'deny';
    allowed = true;
  }
  return allowed ? 'allow' : 'implicit-deny';
}

function parseOutput(payload: unknown): AuthorizerOutput {
  if (!payload || typeof payload !== 'object') throw new Error('authorizer returned no object');
  const p = payload as Record<string, unknown>;
  if (!p.policyDocument) throw new Error('authorizer output has no policyDocument');
  const context: Record<string, string> = {};
  if (p.context !== undefined && p.context !== null) {
    if (typeof p.context !== 'object' || Array.isArray(p.context)) throw new Error('authorizer context is not an object');
    for (const [k, v] of Object.entries(p.context as Record<string, unknown>)) {
      // API Gateway accepts only string, number and boolean values and hands them on as strings.
      if (v === null || typeof v === 'object') throw new Error(`authorizer context value ${k} is not a string, number or boolean`);
      context[k] = fieldText(v);
    }
  }
  return { principalId: p.principalId === undefined ? '' : fieldText(p.principalId), policyDocument: p.policyDocument, context };
}

export class AuthorizerRunner {
  private readonly cache = new Map<string, { expires: number; output: AuthorizerOutput }>();

  constructor(
    private readonly lambda: LambdaInvoker,
    private readonly logger: CloudLogger,
    /** Throws when the authorizer function's resource policy does not let API Gateway invoke it (./common.ts). */
    private readonly permit: (auth: AuthorizerDef) => void = () => undefined,
  ) {}

  /**
   * Runs `auth` for a request. `event` builds the authorizer's input once identity sources are known present.
   * `requireIdentity` is false for REST REQUEST authorizers with caching off, which AWS invokes even when an
   * identity source is absent.
   */
  async authorize(
    auth: AuthorizerDef,
    data: AuthRequestData,
    methodArn: string,
    event: (token: string | undefined) => unknown,
    requireIdentity = true,
  ): Promise<AuthOutcome> {
    const values = auth.identitySources.map((s) => identityValue(s, data));
    const missing = values.some((v) => v === undefined);
    if (missing && (requireIdentity || auth.type === 'TOKEN')) return { kind: 'unauthorized', invoked: false };
    const token = auth.type === 'TOKEN' ? values[0] : undefined;
    if (token !== undefined && auth.validationExpression && !auth.validationExpression.test(token)) {
      return { kind: 'unauthorized', invoked: false };
    }

    const cacheable = auth.ttlSeconds > 0 && auth.identitySources.length > 0 && !missing;
    const key = `${auth.id}\u0000${values.join('\u0000')}`;
    const now = Date.now();
    let output: AuthorizerOutput | undefined;
    let latency = 0;
    const hit = cacheable ? this.cache.get(key) : undefined;
    if (hit && hit.expires > now) {
      output = hit.output;
    } else {
      const started = Date.now();
      let result;
      try {
        this.permit(auth);
        result = await this.lambda.invoke(auth.functionRef, event(token));
      } catch (err) {
        this.logger.error(`authorizer ${auth.logicalId}: invoking ${auth.functionRef} failed`, { error: String(err) });
        return { kind: 'error', responseType: 'AUTHORIZER_FAILURE', reason: String(err) };
      }
      latency = Date.now() - started;
      if (!result.ok) {
        // The documented way for an authorizer to ask for a 401 is to fail with exactly this message.
        if (result.errorMessage === 'Unauthorized') return { kind: 'unauthorized', invoked: true };
        this.logger.warn(`authorizer ${auth.logicalId} failed`, { errorType: result.errorType, errorMessage: result.errorMessage });
        return { kind: 'error', responseType: 'AUTHORIZER_FAILURE', reason: result.errorMessage };
      }
      try {
        output = parseOutput(result.payload);
      } catch (err) {
        this.logger.warn(`authorizer ${auth.logicalId} returned an invalid result`, { error: (err as Error).message });
        return { kind: 'error', responseType: 'AUTHORIZER_CONFIGURATION_ERROR', reason: (err as Error).message };
      }
      if (cacheable) this.cache.set(key, { expires: now + auth.ttlSeconds * 1000, output });
    }

    let decision;
    try {
      decision = evaluatePolicy(output.policyDocument, methodArn);
    } catch (err) {
      this.logger.warn(`authorizer ${auth.logicalId} returned an invalid policy`, { error: (err as Error).message });
      return { kind: 'error', responseType: 'AUTHORIZER_CONFIGURATION_ERROR', reason: (err as Error).message };
    }
    if (decision !== 'allow') return { kind: 'deny', explicit: decision === 'deny' };
    return { kind: 'allow', principalId: output.principalId, context: output.context, integrationLatency: latency };
  }

  clear(): void {
    this.cache.clear();
  }
}
