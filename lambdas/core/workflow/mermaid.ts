import type { WhenCondition, WorkflowDefinition } from './schema';
import { lookup } from '../invariants';

/** Quotes and angle brackets in names would end a Mermaid label or be read as HTML. */
function escapeText(text: string): string {
  return text.replace(/"/g, '#quot;').replace(/</g, '#lt;').replace(/>/g, '#gt;');
}

function label(text: string): string {
  return `"${escapeText(text)}"`;
}

function describeWhen(when: WhenCondition): string {
  if (when.all) return when.all.map(describeWhen).join(' and ');
  if (when.any) return `(${when.any.map(describeWhen).join(' or ')})`;
  if (when.not) return `not (${describeWhen(when.not)})`;
  // A validated test always names its parameter.
  const param = when.param ?? '?';
  if (when.exists !== undefined) return `${param} ${when.exists ? 'is set' : 'is not set'}`;
  if (when.equals !== undefined) return `${param} = ${JSON.stringify(when.equals)}`;
  if (when.notEquals !== undefined) return `${param} ≠ ${JSON.stringify(when.notEquals)}`;
  return `${param} in ${JSON.stringify(when.in)}`;
}

/** The workflow's DAG: one node per step (fan-outs drawn as subroutines), one edge per dependency. */
export function workflowToMermaid(definition: WorkflowDefinition): string {
  const ids = new Map(definition.steps.map((s, i) => [s.id, `s${i}`]));
  const lines = ['flowchart TD'];
  for (const step of definition.steps) {
    const details = [step.capability.skill];
    if (step.forEach !== undefined) details.push(`for each item of ${step.forEach}`);
    if (step.when !== undefined) details.push(`when ${describeWhen(step.when)}`);
    const text = `"${escapeText(step.id)}<br/><small>${details.map(escapeText).join('<br/>')}</small>"`;
    const node = lookup(ids, step.id);
    lines.push(step.forEach !== undefined ? `  ${node}[[${text}]]` : `  ${node}[${text}]`);
  }
  for (const step of definition.steps) {
    for (const dep of step.dependsOn ?? []) {
      const from = ids.get(dep);
      if (from !== undefined) lines.push(`  ${from} --> ${lookup(ids, step.id)}`);
    }
  }
  const conditional = definition.steps.filter((s) => s.when !== undefined).map((s) => lookup(ids, s.id));
  if (conditional.length > 0) {
    lines.push('  classDef conditional stroke-dasharray: 5 5');
    lines.push(`  class ${conditional.join(',')} conditional`);
  }
  return lines.join('\n');
}

type AslState = Record<string, unknown> & { Type: string };
interface AslMachine {
  StartAt: string;
  States: Record<string, AslState>;
}

/**
 * The compiled machine: every state a node, Parallel branches and Map processors as nested subgraphs,
 * Choice rules and Catch transitions as labelled / dotted edges.
 */
export function aslToMermaid(asl: AslMachine): string {
  const lines = ['flowchart TD'];
  let counter = 0;
  const fresh = () => `n${counter++}`;

  /** Emits a (sub)machine; returns the node ids of its start state and its terminal states. */
  const emit = (machine: AslMachine, indent: string): { start: string; ends: string[] } => {
    const nodeOf = new Map<string, string>();
    for (const name of Object.keys(machine.States)) nodeOf.set(name, fresh());
    const ends: string[] = [];
    for (const [name, state] of Object.entries(machine.States)) {
      const node = lookup(nodeOf, name);
      if (state.Type === 'Parallel' || state.Type === 'Map') {
        const mode = state.Type === 'Map' ? ((state.ItemProcessor as { ProcessorConfig?: { Mode?: string } }).ProcessorConfig?.Mode ?? 'INLINE') : '';
        lines.push(`${indent}subgraph ${node}[${label(state.Type === 'Map' ? `${name} (Map, ${mode.toLowerCase()})` : name)}]`);
        lines.push(`${indent}  direction TB`);
        const inner = state.Type === 'Parallel' ? (state.Branches as AslMachine[]) : [state.ItemProcessor as AslMachine];
        inner.forEach((branch, i) => {
          const sub = fresh();
          lines.push(`${indent}  subgraph ${sub}[${label(state.Type === 'Parallel' ? `branch ${i + 1}` : 'per batch')}]`);
          emit(branch, `${indent}    `);
          lines.push(`${indent}  end`);
        });
        lines.push(`${indent}end`);
      } else {
        const text = label(name);
        const shape =
          state.Type === 'Choice' ? `{${text}}` : state.Type === 'Fail' ? `[/${text}/]` : state.Type === 'Pass' ? `([${text}])` : `[${text}]`;
        lines.push(`${indent}${node}${shape}`);
      }
      if (state.Type === 'Choice') {
        for (const choice of state.Choices as Array<{ Next: string }>) lines.push(`${indent}${node} -->|rule| ${lookup(nodeOf, choice.Next)}`);
        if (typeof state.Default === 'string') lines.push(`${indent}${node} -->|default| ${lookup(nodeOf, state.Default)}`);
      }
      if (typeof state.Next === 'string') lines.push(`${indent}${node} --> ${lookup(nodeOf, state.Next)}`);
      for (const c of (state.Catch as Array<{ Next: string; ErrorEquals: string[] }> | undefined) ?? []) {
        lines.push(`${indent}${node} -.->|${c.ErrorEquals.join(', ')}| ${lookup(nodeOf, c.Next)}`);
      }
      if (state.End === true) ends.push(node);
    }
    return { start: lookup(nodeOf, machine.StartAt), ends };
  };

  const startNode = fresh();
  lines.push(`  ${startNode}((start))`);
  const { start, ends } = emit(asl, '  ');
  lines.push(`  ${startNode} --> ${start}`);
  const endNode = fresh();
  lines.push(`  ${endNode}((end))`);
  for (const end of ends) lines.push(`  ${end} --> ${endNode}`);
  return lines.join('\n');
}
