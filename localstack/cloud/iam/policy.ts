/**
 * IAM policy documents as the local cloud reads them from a resolved template. CloudFormation accepts a single
 * statement or an array, and a string or an array for Action, Resource and each condition value; the parser
 * normalises all of that to arrays once, so evaluation never has to ask which form it got.
 */

type Effect = 'Allow' | 'Deny';

/** `*` (anyone) or principal lists by kind (`AWS`, `Service`, `Federated`, `CanonicalUser`). */
export type Principal = '*' | Readonly<Record<string, readonly string[]>>;

/** operator (with its `ForAnyValue:` / `ForAllValues:` qualifier and `IfExists` suffix) → context key → values. */
export type Condition = Readonly<Record<string, Readonly<Record<string, readonly string[]>>>>;

export interface Statement {
  sid?: string;
  effect: Effect;
  /** Exactly one of action / notAction is set. */
  action?: readonly string[];
  notAction?: readonly string[];
  /** Identity policies set exactly one of resource / notResource; a Lambda permission may set neither. */
  resource?: readonly string[];
  notResource?: readonly string[];
  principal?: Principal;
  notPrincipal?: Principal;
  condition?: Condition;
}

export interface PolicyDocument {
  version?: string;
  statements: readonly Statement[];
}

/** A policy document with the name a decision reports (the policy's logical id, or `Role/PolicyName` for inline). */
export interface NamedPolicy {
  name: string;
  document: PolicyDocument;
}

export class PolicyParseError extends Error {
  override readonly name = 'PolicyParseError';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A string or an array of strings, as policy grammar allows. Numbers and booleans are accepted as their text,
 * because a template may write `"aws:SecureTransport": false` and IAM compares the text `false`.
 */
function stringList(value: unknown, where: string): string[] {
  const items = Array.isArray(value) ? (value as unknown[]) : [value];
  return items.map((item, i) => {
    if (typeof item === 'string') return item;
    if (typeof item === 'number' || typeof item === 'boolean') return String(item);
    throw new PolicyParseError(`${where}${Array.isArray(value) ? `[${i}]` : ''}: expected a string, got ${JSON.stringify(item)}`);
  });
}

function parsePrincipal(value: unknown, where: string): Principal {
  if (value === '*') return '*';
  if (!isRecord(value)) throw new PolicyParseError(`${where}: expected "*" or an object of principal lists`);
  const out: Record<string, string[]> = {};
  for (const [kind, list] of Object.entries(value)) out[kind] = stringList(list, `${where}.${kind}`);
  return out;
}

function parseCondition(value: unknown, where: string): Condition {
  if (!isRecord(value)) throw new PolicyParseError(`${where}: expected an object of condition operators`);
  const out: Record<string, Record<string, string[]>> = {};
  for (const [operator, keys] of Object.entries(value)) {
    if (!isRecord(keys)) throw new PolicyParseError(`${where}.${operator}: expected an object of condition keys`);
    const parsed: Record<string, string[]> = {};
    for (const [key, values] of Object.entries(keys)) parsed[key] = stringList(values, `${where}.${operator}.${key}`);
    out[operator] = parsed;
  }
  return out;
}

function parseStatement(value: unknown, where: string): Statement {
  if (!isRecord(value)) throw new PolicyParseError(`${where}: expected a statement object`);
  const { Sid, Effect, Action, NotAction, Resource, NotResource, Principal, NotPrincipal, Condition } = value;
  if (Effect !== 'Allow' && Effect !== 'Deny') throw new PolicyParseError(`${where}.Effect: expected Allow or Deny, got ${JSON.stringify(Effect)}`);
  if ((Action === undefined) === (NotAction === undefined)) throw new PolicyParseError(`${where}: needs exactly one of Action and NotAction`);
  if (Resource !== undefined && NotResource !== undefined) throw new PolicyParseError(`${where}: has both Resource and NotResource`);
  if (Sid !== undefined && typeof Sid !== 'string') throw new PolicyParseError(`${where}.Sid: expected a string`);
  const statement: Statement = {
    effect: Effect,
    ...(Sid !== undefined && { sid: Sid }),
    ...(Action !== undefined && { action: stringList(Action, `${where}.Action`) }),
    ...(NotAction !== undefined && { notAction: stringList(NotAction, `${where}.NotAction`) }),
    ...(Resource !== undefined && { resource: stringList(Resource, `${where}.Resource`) }),
    ...(NotResource !== undefined && { notResource: stringList(NotResource, `${where}.NotResource`) }),
    ...(Principal !== undefined && { principal: parsePrincipal(Principal, `${where}.Principal`) }),
    ...(NotPrincipal !== undefined && { notPrincipal: parsePrincipal(NotPrincipal, `${where}.NotPrincipal`) }),
    ...(Condition !== undefined && { condition: parseCondition(Condition, `${where}.Condition`) }),
  };
  return statement;
}

/**
 * Parses a resolved policy document (plain JSON, every intrinsic already resolved). `where` prefixes every error,
 * e.g. the logical id of the resource, so a malformed policy names itself at start-up.
 */
export function parsePolicyDocument(value: unknown, where = 'PolicyDocument'): PolicyDocument {
  if (!isRecord(value)) throw new PolicyParseError(`${where}: expected a policy document object`);
  const { Version, Statement } = value;
  if (Version !== undefined && typeof Version !== 'string') throw new PolicyParseError(`${where}.Version: expected a string`);
  if (Statement === undefined) throw new PolicyParseError(`${where}: has no Statement`);
  const list = Array.isArray(Statement) ? (Statement as unknown[]) : [Statement];
  return {
    ...(Version !== undefined && { version: Version }),
    statements: list.map((s, i) => parseStatement(s, Array.isArray(Statement) ? `${where}.Statement[${i}]` : `${where}.Statement`)),
  };
}
