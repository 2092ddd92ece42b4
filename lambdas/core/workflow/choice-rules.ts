import type { ParameterSpec, ScalarValue, WhenCondition } from './schema';
import { present } from '../invariants';

export type ChoiceRule = Record<string, unknown>;

/** Where the compiled machine keeps each conditional step's plan: "run", "condition" or "upstream". */
export const planPath = (stepId: string) => `$.plan.${stepId}`;
export const PLAN_RUN = 'run';

const parameterPath = (name: string) => `$.parameters.${name}`;

function comparison(name: string, spec: ParameterSpec | undefined, value: ScalarValue): ChoiceRule {
  const operator =
    spec?.type === 'boolean' ? 'BooleanEquals' : spec?.type === 'number' || spec?.type === 'integer' ? 'NumericEquals' : 'StringEquals';
  return { Variable: parameterPath(name), [operator]: value };
}

/**
 * Step Functions fails a Choice whose Variable is missing, so a test on a parameter that may be absent
 * (no default: the run API fills defaults) first checks that it is present.
 */
function guarded(name: string, spec: ParameterSpec | undefined, rule: ChoiceRule): ChoiceRule {
  if (spec?.default !== undefined) return rule;
  return { And: [{ Variable: parameterPath(name), IsPresent: true }, rule] };
}

/** Translates a `when` condition into a Choice rule (without Next) over `$.parameters`. */
export function whenToChoiceRule(when: WhenCondition, parameters: Readonly<Record<string, ParameterSpec>>): ChoiceRule {
  if (when.all) return when.all.length === 1 ? whenToChoiceRule(when.all[0], parameters) : { And: when.all.map((c) => whenToChoiceRule(c, parameters)) };
  if (when.any) return when.any.length === 1 ? whenToChoiceRule(when.any[0], parameters) : { Or: when.any.map((c) => whenToChoiceRule(c, parameters)) };
  if (when.not) return { Not: whenToChoiceRule(when.not, parameters) };
  const name = present(when.param, 'when.param');
  const spec = parameters[name];
  if (when.exists !== undefined) {
    // `IsPresent: false` is spelled as a negation: some interpreters (aws-local-stepfunctions 3) get it wrong.
    const present = { Variable: parameterPath(name), IsPresent: true };
    return when.exists ? present : { Not: present };
  }
  if (when.equals !== undefined) return guarded(name, spec, comparison(name, spec, when.equals));
  if (when.notEquals !== undefined) return { Not: guarded(name, spec, comparison(name, spec, when.notEquals)) };
  const values = present(when.in, 'when.in');
  const inner = values.length === 1 ? comparison(name, spec, values[0]) : { Or: values.map((v) => comparison(name, spec, v)) };
  return guarded(name, spec, inner);
}

/** True when every listed step was planned not to run. */
export function allSkippedRule(stepIds: readonly string[]): ChoiceRule {
  const notRun = (id: string): ChoiceRule => ({ Not: { Variable: planPath(id), StringEquals: PLAN_RUN } });
  return stepIds.length === 1 ? notRun(stepIds[0]) : { And: stepIds.map(notRun) };
}
