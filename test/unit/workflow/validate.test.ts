import { describe, expect, it } from 'vitest';
import { validateWorkflow, type Problem } from '../../../lambdas/core/workflow/validate';
import { contractExample } from './support/contract-example';

/** A definition the tests break on purpose: any field may be set to anything, valid or not. */
interface Definition {
  steps: Record<string, unknown>[];
  parameters: Record<string, Record<string, unknown>>;
  [field: string]: unknown;
}

/** The CONTRACT.md example, plus an optional integer parameter. */
function example(): Definition {
  const definition = contractExample() as Definition;
  definition.parameters.depth = { type: 'integer' };
  return definition;
}

function withChange(change: (d: Definition) => void): Definition {
  const definition = example();
  change(definition);
  return definition;
}

const pairs = (problems: Problem[]) => problems.map((p) => `${p.code} ${p.path}`).sort();

interface BadCase {
  kind: string;
  input: unknown;
  errors: Array<[code: string, path: string]>;
}

const BAD_DEFINITIONS: BadCase[] = [
  { kind: 'a definition that is not an object', input: 'steps: []', errors: [['schema.type', '$']] },
  { kind: 'a missing steps list', input: withChange((d) => delete (d as Partial<Definition>).steps), errors: [['schema.required', '$.steps']] },
  { kind: 'an empty steps list', input: withChange((d) => (d.steps = [])), errors: [['schema.size', '$.steps']] },
  {
    kind: 'more steps than the limit',
    input: withChange((d) => (d.steps = Array.from({ length: 1001 }, (_, i) => ({ id: `s${i}`, capability: { skill: 'x' } })))),
    errors: [['schema.size', '$.steps']],
  },
  { kind: 'a missing workflow id', input: withChange((d) => delete d.id), errors: [['schema.required', '$.id']] },
  { kind: 'a missing skill', input: withChange((d) => (d.steps[1].capability = {})), errors: [['schema.required', '$.steps[1].capability.skill']] },
  { kind: 'an unknown field (typo)', input: withChange((d) => (d.steps[1].dependOn = ['analyze'])), errors: [['schema.unknown_key', '$.steps[1].dependOn']] },
  { kind: 'a step id with a dot', input: withChange((d) => (d.steps[3].id = 'report.final')), errors: [['schema.format', '$.steps[3].id']] },
  { kind: 'a step id over 40 characters', input: withChange((d) => (d.steps[3].id = 'r'.repeat(41))), errors: [['schema.size', '$.steps[3].id']] },
  { kind: 'a limit of the wrong type', input: withChange((d) => (d.steps[0].maxConcurrency = '20')), errors: [['schema.type', '$.steps[0].maxConcurrency']] },
  {
    kind: 'limits out of range',
    input: withChange((d) => {
      d.steps[0].maxConcurrency = 0;
      d.steps[0].batchSize = 1001;
      d.steps[0].timeoutSeconds = 901;
      d.steps[0].toleratedFailurePercentage = 101;
      d.steps[0].retry = { maxAttempts: 11, intervalSeconds: 0, backoffRate: 0.5 };
    }),
    errors: [
      ['schema.range', '$.steps[0].maxConcurrency'],
      ['schema.range', '$.steps[0].batchSize'],
      ['schema.range', '$.steps[0].timeoutSeconds'],
      ['schema.range', '$.steps[0].toleratedFailurePercentage'],
      ['schema.range', '$.steps[0].retry.maxAttempts'],
      ['schema.range', '$.steps[0].retry.intervalSeconds'],
      ['schema.range', '$.steps[0].retry.backoffRate'],
    ],
  },
  { kind: 'a fractional batch size', input: withChange((d) => (d.steps[0].batchSize = 1.5)), errors: [['schema.type', '$.steps[0].batchSize']] },
  { kind: 'an unknown parameter type', input: withChange((d) => (d.parameters.depth.type = 'text')), errors: [['schema.enum', '$.parameters.depth.type']] },
  { kind: 'a duplicate step id', input: withChange((d) => (d.steps[3].id = 'analyze')), errors: [['step.duplicate_id', '$.steps[3].id']] },
  { kind: 'a reserved step id', input: withChange((d) => (d.steps[3].id = 'inputs')), errors: [['step.reserved_id', '$.steps[3].id']] },
  { kind: 'an unknown dependency', input: withChange((d) => (d.steps[3].dependsOn = ['generate', 'summarize'])), errors: [['step.unknown_dependency', '$.steps[3].dependsOn[1]']] },
  { kind: 'a step depending on itself', input: withChange((d) => (d.steps[1].dependsOn as string[]).push('dependencies')), errors: [['step.self_dependency', '$.steps[1].dependsOn[1]']] },
  {
    kind: 'a dependency cycle',
    input: withChange((d) => (d.steps[0].dependsOn = ['report'])),
    errors: [['graph.cycle', '$.steps[0].dependsOn[0]']],
  },
  {
    kind: 'a forEach on an unknown step',
    input: withChange((d) => (d.steps[2].forEach = 'analyse')),
    errors: [['forEach.unknown_step', '$.steps[2].forEach']],
  },
  {
    kind: 'a forEach on a step that is not upstream',
    input: withChange((d) => {
      d.steps.push({ id: 'lint', capability: { skill: 'lint' }, forEach: 'inputs' });
      d.steps[3].forEach = 'lint';
    }),
    errors: [['forEach.not_upstream', '$.steps[3].forEach']],
  },
  {
    kind: 'a forEach on a step that does not fan out',
    input: withChange((d) => (d.steps[2].forEach = 'dependencies')),
    errors: [['forEach.not_fan_out', '$.steps[2].forEach']],
  },
  {
    kind: 'a condition on an unknown parameter',
    input: withChange((d) => (d.steps[2].when = { param: 'language', equals: 'java' })),
    errors: [['when.unknown_parameter', '$.steps[2].when.param']],
  },
  {
    kind: 'a condition value of the wrong type',
    input: withChange((d) => (d.steps[2].when = { param: 'depth', in: [1, 'deep', 2.5] })),
    errors: [
      ['when.type_mismatch', '$.steps[2].when.in[1]'],
      ['when.type_mismatch', '$.steps[2].when.in[2]'],
    ],
  },
  {
    kind: 'a condition value outside the enum',
    input: withChange((d) => (d.steps[2].when = { param: 'targetLanguage', notEquals: 'scala' })),
    errors: [['when.not_in_enum', '$.steps[2].when.notEquals']],
  },
  {
    kind: 'nested conditions with problems at every level',
    input: withChange(
      (d) => (d.steps[2].when = { all: [{ param: 'depth', equals: '3' }, { not: { param: 'verbose', exists: true } }] }),
    ),
    errors: [
      ['when.type_mismatch', '$.steps[2].when.all[0].equals'],
      ['when.unknown_parameter', '$.steps[2].when.all[1].not.param'],
    ],
  },
  {
    kind: 'a condition mixing a test and a combinator',
    input: withChange((d) => (d.steps[2].when = { param: 'targetLanguage', equals: 'java', any: [{ param: 'depth', exists: true }] })),
    errors: [['when.shape', '$.steps[2].when']],
  },
  { kind: 'an empty combinator', input: withChange((d) => (d.steps[2].when = { any: [] })), errors: [['schema.size', '$.steps[2].when.any']] },
  {
    kind: 'conditions nested too deep',
    input: withChange((d) => {
      let when: Record<string, unknown> = { param: 'depth', exists: true };
      for (let i = 0; i < 8; i++) when = { not: when };
      d.steps[2].when = when;
    }),
    errors: [['when.too_deep', `$.steps[2].when${'.not'.repeat(8)}`]],
  },
  { kind: 'a default of the wrong type', input: withChange((d) => (d.parameters.depth.default = 'deep')), errors: [['parameter.default_type', '$.parameters.depth.default']] },
  {
    kind: 'a default outside the enum',
    input: withChange((d) => (d.parameters.targetLanguage.default = 'cobol')),
    errors: [['parameter.default_not_in_enum', '$.parameters.targetLanguage.default']],
  },
  {
    kind: 'enum values of the wrong type',
    input: withChange((d) => (d.parameters.targetLanguage.enum = ['java', 7])),
    errors: [['parameter.enum_type', '$.parameters.targetLanguage.enum[1]']],
  },
  { kind: 'a parameter name that is not an identifier', input: withChange((d) => (d.parameters['java-package'] = { type: 'string' })), errors: [['schema.format', "$.parameters['java-package']"]] },
  {
    kind: 'a config referencing an unknown parameter',
    input: withChange((d) => (d.steps[2].config = { package: '${params.javaPackage}', header: ['// ${params.author}'] })),
    errors: [['config.unknown_parameter', '$.steps[2].config.header[0]']],
  },
  {
    kind: 'a config key that Step Functions would evaluate',
    input: withChange((d) => (d.steps[2].config = { nested: { 'path.$': '$.secret' } })),
    errors: [['payload.reserved_key', "$.steps[2].config.nested['path.$']"]],
  },
  {
    kind: 'distributed on a step without forEach',
    input: withChange((d) => (d.steps[3].distributed = true)),
    errors: [['step.distributed_without_forEach', '$.steps[3].distributed']],
  },
  {
    kind: 'a retry whose maximum delay is below its interval',
    input: withChange((d) => (d.steps[0].retry = { intervalSeconds: 10, maxDelaySeconds: 5 })),
    errors: [['retry.max_delay_below_interval', '$.steps[0].retry.maxDelaySeconds']],
  },
];

describe('Function: validateWorkflow', () => {
  it('should accept the contract example without problems', () => {
    // Act
    const result = validateWorkflow(example());

    // Assert
    expect(result).toMatchObject({ ok: true, errors: [], warnings: [] });
    expect(result.definition?.steps.map((s) => s.id)).toEqual(['analyze', 'dependencies', 'generate', 'report']);
  });

  it(`should cover at least 20 kinds of bad definitions (${BAD_DEFINITIONS.length})`, () => {
    expect(new Set(BAD_DEFINITIONS.map((c) => c.errors.map((e) => e[0]).join())).size).toBeGreaterThanOrEqual(20);
  });

  it.each(BAD_DEFINITIONS)('should reject $kind with the path of every problem', ({ input, errors }) => {
    // Act
    const result = validateWorkflow(input);

    // Assert
    expect(result.ok).toBe(false);
    expect(result.definition).toBeUndefined();
    expect(pairs(result.errors)).toEqual(errors.map(([code, path]) => `${code} ${path}`).sort());
    for (const problem of result.errors) expect(problem.message.length).toBeGreaterThan(0);
  });

  it('should name the cycle in the order the steps would run', () => {
    // Arrange
    const input = {
      id: 'loop',
      steps: [
        { id: 'a', dependsOn: ['c'], capability: { skill: 'x' } },
        { id: 'b', dependsOn: ['a'], capability: { skill: 'x' } },
        { id: 'c', dependsOn: ['b'], capability: { skill: 'x' } },
        { id: 'd', dependsOn: ['e'], capability: { skill: 'x' } },
        { id: 'e', dependsOn: ['d'], capability: { skill: 'x' } },
      ],
    };

    // Act
    const result = validateWorkflow(input);

    // Assert
    expect(result.errors).toEqual([
      { path: '$.steps[0].dependsOn[0]', code: 'graph.cycle', message: 'dependency cycle: a → b → c → a' },
      { path: '$.steps[3].dependsOn[0]', code: 'graph.cycle', message: 'dependency cycle: d → e → d' },
    ]);
  });

  it('should report every problem at once, schema and graph alike', () => {
    // Arrange
    const input = withChange((d) => {
      d.id = 'has spaces';
      d.steps[0].maxConcurrency = 5000;
      d.steps[0].dependsOn = ['generate'];
      d.steps[1].dependsOn = ['analyze', 'ghost'];
      d.steps[2].when = { param: 'nope', equals: 1 };
      d.steps[3].id = 'dependencies';
    });

    // Act
    const result = validateWorkflow(input);

    // Assert
    expect(pairs(result.errors)).toEqual(
      [
        'schema.format $.id',
        'schema.range $.steps[0].maxConcurrency',
        'step.duplicate_id $.steps[3].id',
        'step.unknown_dependency $.steps[1].dependsOn[1]',
        'when.unknown_parameter $.steps[2].when.param',
        'graph.cycle $.steps[0].dependsOn[0]',
      ].sort(),
    );
  });

  it('should warn about capabilities no agent serves, and reject them when strict', () => {
    // Arrange
    const knownSkills = new Set(['cobol-analysis', 'dependency-mapping', 'report-writing']);

    // Act
    const lenient = validateWorkflow(example(), { knownSkills });
    const strict = validateWorkflow(example(), { knownSkills, strict: true });

    // Assert
    expect(lenient.ok).toBe(true);
    expect(pairs(lenient.warnings)).toEqual(['capability.unserved $.steps[2].capability.skill']);
    expect(strict.ok).toBe(false);
    expect(pairs(strict.errors)).toEqual(['capability.unserved $.steps[2].capability.skill']);
  });

  it('should warn about options that have no effect', () => {
    // Arrange
    const input = withChange((d) => {
      d.steps[1].batchSize = 5;
      d.steps[3].dependsOn = ['generate', 'generate'];
      d.parameters.javaPackage.required = true;
      d.steps[2].when = { param: 'javaPackage', exists: true };
    });

    // Act
    const result = validateWorkflow(input);

    // Assert
    expect(result.ok).toBe(true);
    expect(pairs(result.warnings)).toEqual(
      [
        'step.fan_out_option_ignored $.steps[1].batchSize',
        'step.duplicate_dependency $.steps[3].dependsOn[1]',
        'parameter.required_with_default $.parameters.javaPackage.required',
        'when.constant $.steps[2].when.exists',
      ].sort(),
    );
  });

  it('should never throw on arbitrary JSON', () => {
    for (const input of [null, 42, [], { steps: 'x' }, { steps: [null, 1, { id: 3 }] }, { parameters: [], steps: [{ dependsOn: {} }] }]) {
      expect(() => validateWorkflow(input)).not.toThrow();
      expect(validateWorkflow(input).ok).toBe(false);
    }
  });
});
