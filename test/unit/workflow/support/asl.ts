import { createRequire } from 'node:module';

type AslValidator = (
  definition: unknown,
  options?: { checkPaths?: boolean; checkArn?: boolean },
) => { isValid: boolean; errorsText: (separator?: string) => string };

// asl-validator is CommonJS without type declarations.
const aslValidator = createRequire(import.meta.url)('asl-validator') as AslValidator;

/** Runs asl-validator on a copy (it writes QueryLanguage into the definition it checks). */
export function validateAsl(asl: unknown): { isValid: boolean; errors: string } {
  const result = aslValidator(structuredClone(asl));
  return { isValid: result.isValid, errors: result.isValid ? '' : result.errorsText('\n') };
}

type AslState = Record<string, unknown> & { Type: string };
type AslMachine = { StartAt: string; States: Record<string, AslState> };

/**
 * Critical path of a compiled machine read from the ASL alone: a step counts when the walk passes its
 * `<id>.done` state, a Parallel counts its longest branch, a Choice follows its first rule (the run path).
 */
export function aslCriticalPath(machine: AslMachine, weight: (stepId: string) => number): number {
  let total = 0;
  let name: string | undefined = machine.StartAt;
  while (name !== undefined) {
    const state: AslState = machine.States[name];
    if (state.Type === 'Parallel') {
      const branches = state.Branches as AslMachine[];
      total += Math.max(0, ...branches.map((b) => aslCriticalPath(b, weight)));
    }
    if (name.endsWith('.done')) total += weight(name.slice(0, -'.done'.length));
    if (state.Type === 'Choice') name = (state.Choices as Array<{ Next: string }>)[0].Next;
    else name = state.Next as string | undefined;
  }
  return total;
}

/** Largest number of branches of any Parallel state (the local interpreter runs at most 40 at once). */
export function maxParallelWidth(machine: AslMachine): number {
  let width = 0;
  for (const state of Object.values(machine.States)) {
    if (state.Type === 'Parallel') {
      const branches = state.Branches as AslMachine[];
      width = Math.max(width, branches.length, ...branches.map(maxParallelWidth));
    }
  }
  return width;
}

/** Every state name of a machine, nested ones included. */
export function allStateNames(machine: AslMachine): string[] {
  const names: string[] = [];
  for (const [name, state] of Object.entries(machine.States)) {
    names.push(name);
    if (state.Type === 'Parallel') for (const b of state.Branches as AslMachine[]) names.push(...allStateNames(b));
    if (state.Type === 'Map') names.push(...allStateNames(state.ItemProcessor as AslMachine));
  }
  return names;
}

/** Finds a state by name anywhere in the machine. */
export function findState(machine: AslMachine, wanted: string): AslState | undefined {
  for (const [name, state] of Object.entries(machine.States)) {
    if (name === wanted) return state;
    const nested =
      state.Type === 'Parallel'
        ? (state.Branches as AslMachine[])
        : state.Type === 'Map'
          ? [state.ItemProcessor as AslMachine]
          : [];
    for (const m of nested) {
      const found = findState(m, wanted);
      if (found) return found;
    }
  }
  return undefined;
}

export type { AslMachine, AslState };
