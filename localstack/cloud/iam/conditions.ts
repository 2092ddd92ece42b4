/**
 * The Condition element, with IAM's documented semantics: every operator and every key of a block must hold
 * (AND); the values listed for one key are alternatives (OR), except for a negated operator (`StringNotEquals`,
 * `ArnNotLike`, …), where the key must match none of them. A key the request does not carry makes a positive
 * operator false and a negated one true, `…IfExists` true, `ForAllValues:` true and `ForAnyValue:` false;
 * `Null` tests exactly that presence.
 */
import { arnMatches, globMatches } from './match';
import type { Condition } from './policy';

/** A value of the request context: multivalued keys (`aws:TagKeys`, `dynamodb:LeadingKeys`) are arrays. */
type ContextValue = string | number | boolean | readonly string[];

/** Request context keys as the caller knows them, e.g. `aws:SourceArn`, `aws:ResourceTag/agentplane:agent`. */
export type ConditionContext = Readonly<Record<string, ContextValue | undefined>>;

export class UnsupportedConditionError extends Error {
  override readonly name = 'UnsupportedConditionError';
}

type Compare = (contextValue: string, policyValue: string) => boolean;

function number(text: string): number {
  return text.trim() === '' ? Number.NaN : Number(text);
}

/** IAM dates are ISO 8601 or epoch seconds. */
function date(text: string): number {
  return /^\d+$/.test(text) ? Number(text) * 1000 : Date.parse(text);
}

function numeric(test: (a: number, b: number) => boolean, parse: (text: string) => number): Compare {
  return (c, p) => {
    const a = parse(c);
    const b = parse(p);
    return !Number.isNaN(a) && !Number.isNaN(b) && test(a, b);
  };
}

/** Base operators in their positive form; `negated` says the operator's name has the `Not`. */
const OPERATORS: Record<string, { compare: Compare; negated: boolean }> = {
  StringEquals: { compare: (c, p) => c === p, negated: false },
  StringNotEquals: { compare: (c, p) => c === p, negated: true },
  StringEqualsIgnoreCase: { compare: (c, p) => c.toLowerCase() === p.toLowerCase(), negated: false },
  StringNotEqualsIgnoreCase: { compare: (c, p) => c.toLowerCase() === p.toLowerCase(), negated: true },
  StringLike: { compare: (c, p) => globMatches(p, c), negated: false },
  StringNotLike: { compare: (c, p) => globMatches(p, c), negated: true },
  NumericEquals: { compare: numeric((a, b) => a === b, number), negated: false },
  NumericNotEquals: { compare: numeric((a, b) => a === b, number), negated: true },
  NumericLessThan: { compare: numeric((a, b) => a < b, number), negated: false },
  NumericLessThanEquals: { compare: numeric((a, b) => a <= b, number), negated: false },
  NumericGreaterThan: { compare: numeric((a, b) => a > b, number), negated: false },
  NumericGreaterThanEquals: { compare: numeric((a, b) => a >= b, number), negated: false },
  DateEquals: { compare: numeric((a, b) => a === b, date), negated: false },
  DateNotEquals: { compare: numeric((a, b) => a === b, date), negated: true },
  DateLessThan: { compare: numeric((a, b) => a < b, date), negated: false },
  DateLessThanEquals: { compare: numeric((a, b) => a <= b, date), negated: false },
  DateGreaterThan: { compare: numeric((a, b) => a > b, date), negated: false },
  DateGreaterThanEquals: { compare: numeric((a, b) => a >= b, date), negated: false },
  Bool: { compare: (c, p) => c.toLowerCase() === p.toLowerCase(), negated: false },
  BinaryEquals: { compare: (c, p) => c === p, negated: false },
  // IAM documents ArnEquals and ArnLike alike: wildcards in either, each ARN part matched on its own.
  ArnEquals: { compare: (c, p) => arnMatches(p, c), negated: false },
  ArnLike: { compare: (c, p) => arnMatches(p, c), negated: false },
  ArnNotEquals: { compare: (c, p) => arnMatches(p, c), negated: true },
  ArnNotLike: { compare: (c, p) => arnMatches(p, c), negated: true },
};

interface ParsedOperator {
  qualifier?: 'ForAnyValue' | 'ForAllValues';
  base: string;
  ifExists: boolean;
}

function parseOperator(operator: string): ParsedOperator {
  const m = /^(?:(ForAnyValue|ForAllValues):)?(.+?)(IfExists)?$/.exec(operator);
  if (!m) throw new UnsupportedConditionError(`Condition operator ${operator} is not supported`);
  const qualifier = m.at(1) as ParsedOperator['qualifier'];
  const base = m[2];
  const ifExists = m.at(3) !== undefined;
  if (base !== 'Null' && !Object.hasOwn(OPERATORS, base)) throw new UnsupportedConditionError(`Condition operator ${operator} is not supported by the local cloud`);
  if (base === 'Null' && (ifExists || qualifier)) throw new UnsupportedConditionError(`Condition operator ${operator} is not valid`);
  return { ...(qualifier && { qualifier }), base, ifExists };
}

/** Throws for an operator the evaluator does not know, so a policy is checked once, at start-up. */
export function checkCondition(condition: Condition): void {
  for (const operator of Object.keys(condition)) parseOperator(operator);
}

/** Context keys are case-insensitive in IAM. */
function lookup(context: ConditionContext, key: string): string[] | undefined {
  let value = context[key];
  if (value === undefined) {
    const lower = key.toLowerCase();
    for (const [k, v] of Object.entries(context)) {
      if (k.toLowerCase() === lower) {
        value = v;
        break;
      }
    }
  }
  if (value === undefined) return undefined;
  return Array.isArray(value) ? [...(value as readonly string[])] : [String(value)];
}

function keyHolds(op: ParsedOperator, policyValues: readonly string[], values: string[] | undefined): boolean {
  if (op.base === 'Null') {
    const absent = values === undefined || values.length === 0;
    return policyValues.some((p) => (p.toLowerCase() === 'true') === absent);
  }
  const { compare, negated } = OPERATORS[op.base];
  // One context value against the policy's values: any of them for a positive operator, none for a negated one.
  const one = (value: string): boolean => (negated ? !policyValues.some((p) => compare(value, p)) : policyValues.some((p) => compare(value, p)));
  const missing = values === undefined || values.length === 0;
  switch (op.qualifier) {
    case 'ForAllValues':
      return missing || values.every(one);
    case 'ForAnyValue':
      return missing ? op.ifExists : values.some(one);
    default:
      if (missing) return op.ifExists || negated;
      // A multivalued key without a set operator: some value must match, or for a negated operator none may.
      return negated ? values.every(one) : values.some(one);
  }
}

/** True when every operator and key of the block holds for the context; an absent block holds. */
export function conditionHolds(condition: Condition | undefined, context: ConditionContext): boolean {
  if (!condition) return true;
  for (const [operator, keys] of Object.entries(condition)) {
    const op = parseOperator(operator);
    for (const [key, policyValues] of Object.entries(keys)) if (!keyHolds(op, policyValues, lookup(context, key))) return false;
  }
  return true;
}
