/**
 * Kinds of bad workflow definitions, each with the JSON paths (and codes) its 400 must name. Shared by the
 * unit tests of the routes and the e2e test through the API.
 */
const cap = (skill = 'diagnostics.delay') => ({ skill });
const ok = (id: string, extra: Record<string, unknown> = {}) => ({ id, capability: cap(), ...extra });

export interface BadCase {
  name: string;
  body: unknown;
  /** Every [path, code] that must be reported. */
  expect: Array<[string, string]>;
}

export const BAD_DEFINITIONS: BadCase[] = [
  { name: 'not an object', body: [1, 2], expect: [['$', 'schema.type']] },
  { name: 'missing id and steps', body: { description: 'x' }, expect: [['$.id', 'schema.required'], ['$.steps', 'schema.required']] },
  { name: 'bad workflow id', body: { id: 'no spaces!', steps: [ok('a')] }, expect: [['$.id', 'schema.format']] },
  { name: 'no steps', body: { id: 'w', steps: [] }, expect: [['$.steps', 'schema.size']] },
  { name: 'unknown top-level field', body: { id: 'w', steps: [ok('a')], colour: 'red' }, expect: [['$.colour', 'schema.unknown_key']] },
  { name: 'duplicate step ids', body: { id: 'w', steps: [ok('a'), ok('a')] }, expect: [['$.steps[1].id', 'step.duplicate_id']] },
  { name: 'unknown dependency', body: { id: 'w', steps: [ok('a', { dependsOn: ['ghost'] })] }, expect: [['$.steps[0].dependsOn[0]', 'step.unknown_dependency']] },
  { name: 'self dependency', body: { id: 'w', steps: [ok('a', { dependsOn: ['a'] })] }, expect: [['$.steps[0].dependsOn[0]', 'step.self_dependency']] },
  {
    name: 'cycle',
    body: { id: 'w', steps: [ok('a', { dependsOn: ['c'] }), ok('b', { dependsOn: ['a'] }), ok('c', { dependsOn: ['b'] })] },
    expect: [['$.steps[0].dependsOn[0]', 'graph.cycle']],
  },
  { name: 'forEach on an unknown step', body: { id: 'w', steps: [ok('a', { forEach: 'zz' })] }, expect: [['$.steps[0].forEach', 'forEach.unknown_step']] },
  { name: 'forEach on a step not upstream', body: { id: 'w', steps: [ok('a', { forEach: 'inputs' }), ok('b', { forEach: 'a' })] }, expect: [['$.steps[1].forEach', 'forEach.not_upstream']] },
  { name: 'forEach on a step that does not fan out', body: { id: 'w', steps: [ok('a'), ok('b', { dependsOn: ['a'], forEach: 'a' })] }, expect: [['$.steps[1].forEach', 'forEach.not_fan_out']] },
  { name: 'unknown parameter in when', body: { id: 'w', steps: [ok('a', { when: { param: 'nope', equals: 1 } })] }, expect: [['$.steps[0].when.param', 'when.unknown_parameter']] },
  {
    name: 'when value of the wrong type',
    body: { id: 'w', parameters: { n: { type: 'integer' } }, steps: [ok('a', { when: { param: 'n', equals: 'three' } })] },
    expect: [['$.steps[0].when.equals', 'when.type_mismatch']],
  },
  { name: 'malformed when', body: { id: 'w', parameters: { n: { type: 'integer' } }, steps: [ok('a', { when: { param: 'n' } })] }, expect: [['$.steps[0].when', 'when.shape']] },
  { name: 'maxConcurrency out of range', body: { id: 'w', steps: [ok('a', { forEach: 'inputs', maxConcurrency: 5000 })] }, expect: [['$.steps[0].maxConcurrency', 'schema.range']] },
  { name: 'batchSize zero', body: { id: 'w', steps: [ok('a', { forEach: 'inputs', batchSize: 0 })] }, expect: [['$.steps[0].batchSize', 'schema.range']] },
  { name: 'timeout above Lambda', body: { id: 'w', steps: [ok('a', { timeoutSeconds: 901 })] }, expect: [['$.steps[0].timeoutSeconds', 'schema.range']] },
  { name: 'retry attempts out of range', body: { id: 'w', steps: [ok('a', { retry: { maxAttempts: 11 } })] }, expect: [['$.steps[0].retry.maxAttempts', 'schema.range']] },
  {
    name: 'retry max delay below interval',
    body: { id: 'w', steps: [ok('a', { retry: { intervalSeconds: 10, maxDelaySeconds: 5 } })] },
    expect: [['$.steps[0].retry.maxDelaySeconds', 'retry.max_delay_below_interval']],
  },
  { name: 'tolerance not an integer', body: { id: 'w', steps: [ok('a', { forEach: 'inputs', toleratedFailurePercentage: 2.5 })] }, expect: [['$.steps[0].toleratedFailurePercentage', 'schema.type']] },
  { name: 'config naming an unknown parameter', body: { id: 'w', steps: [ok('a', { config: { x: '${params.ghost}' } })] }, expect: [['$.steps[0].config.x', 'config.unknown_parameter']] },
  { name: 'config with a path-reference key', body: { id: 'w', steps: [ok('a', { config: { 'evil.$': '$.x' } })] }, expect: [["$.steps[0].config['evil.$']", 'payload.reserved_key']] },
  { name: 'reserved step id', body: { id: 'w', steps: [ok('inputs')] }, expect: [['$.steps[0].id', 'step.reserved_id']] },
  { name: 'step id with a dot', body: { id: 'w', steps: [ok('a.b')] }, expect: [['$.steps[0].id', 'schema.format']] },
  { name: 'distributed without forEach', body: { id: 'w', steps: [ok('a', { distributed: true })] }, expect: [['$.steps[0].distributed', 'step.distributed_without_forEach']] },
  {
    name: 'parameter default of the wrong type',
    body: { id: 'w', parameters: { lang: { type: 'string', enum: ['java'], default: 3 } }, steps: [ok('a')] },
    expect: [['$.parameters.lang.default', 'parameter.default_type']],
  },
  { name: 'missing capability', body: { id: 'w', steps: [{ id: 'a' }] }, expect: [['$.steps[0].capability', 'schema.required']] },
  {
    name: 'several problems at once',
    body: { id: 'w', steps: [ok('a', { dependsOn: ['ghost'], timeoutSeconds: 0 }), ok('a', { forEach: 'nope' })] },
    expect: [
      ['$.steps[0].dependsOn[0]', 'step.unknown_dependency'],
      ['$.steps[0].timeoutSeconds', 'schema.range'],
      ['$.steps[1].id', 'step.duplicate_id'],
      ['$.steps[1].forEach', 'forEach.unknown_step'],
    ],
  },
];

/** Beyond what Step Functions accepts: 400 steps of fat configs (a body under 1 MiB) compile to more than 1 MiB. */
export function oversizedDefinition(): unknown {
  const steps = Array.from({ length: 400 }, (_, i) => ({
    id: `step${i}`,
    capability: { skill: 'diagnostics.delay' },
    config: { blob: 'x'.repeat(2_000) },
    ...(i > 0 ? { dependsOn: [`step${i - 1}`] } : {}),
  }));
  return { id: 'too-big', steps };
}
