import { StateMachine } from 'aws-local-stepfunctions';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileWorkflow, type CompileOptions } from '../../../lambdas/core/workflow/compile';
import { AgentplaneErrorName, WorkflowCompileError } from '../../../lambdas/core/workflow/errors';
import { criticalPath } from '../../../lambdas/core/workflow/graph';
import { HISTORY_EVENT_LIMIT } from '../../../lambdas/core/workflow/history';
import type { WorkflowDefinition } from '../../../lambdas/core/workflow/schema';
import { validateWorkflow } from '../../../lambdas/core/workflow/validate';
import { allStateNames, findState, validateAsl, type AslMachine } from './support/asl';
import { runCompiled } from './support/harness';
import { contractExample } from './support/contract-example';

const OPTIONS: CompileOptions = {
  functions: {
    gate: 'arn:aws:lambda:eu-west-1:123456789012:function:agentplane-gate',
    reporter: 'arn:aws:lambda:eu-west-1:123456789012:function:agentplane-reporter',
  },
};


const step = (id: string, dependsOn: string[] = [], extra: Record<string, unknown> = {}) => ({
  id,
  capability: { skill: `${id}-skill` },
  ...(dependsOn.length > 0 ? { dependsOn } : {}),
  ...extra,
});

const workflow = (...steps: Array<ReturnType<typeof step>>): WorkflowDefinition => ({ id: 'test', steps });

const machineOf = (asl: Record<string, unknown>) => asl as unknown as AslMachine;

describe('Function: compileWorkflow', () => {
  describe('shape', () => {
    it('should name states after steps so the console reads like the workflow', () => {
      // Act
      const { asl } = compileWorkflow(contractExample(), { ...OPTIONS, expectedItems: { analyze: 10 } });

      // Assert
      const names = allStateNames(machineOf(asl));
      for (const name of ['analyze.gate', 'analyze', 'analyze.item', 'analyze.done', 'dependencies', 'generate.plan', 'generate.when', 'generate.skipped', 'report.plan', 'report.when']) {
        expect(names).toContain(name);
      }
      expect(new Set(names).size).toBe(names.length);
      expect(names.every((n) => n.length <= 80)).toBe(true);
    });

    it('should run steps with no path between them in the branches of one Parallel state', () => {
      // Arrange
      const definition = workflow(step('fetch'), step('lint', ['fetch']), step('test', ['fetch']), step('docs'), step('ship', ['lint', 'test']));

      // Act
      const { asl, report } = compileWorkflow(definition, OPTIONS);

      // Assert
      const outer = machineOf(asl).States[machineOf(asl).StartAt];
      expect(machineOf(asl).StartAt).toBe('par(fetch|docs)');
      expect(outer.Type).toBe('Parallel');
      const inner = findState(machineOf(asl), 'par(lint|test)')!;
      expect((inner.Branches as AslMachine[]).map((b) => b.StartAt)).toEqual(['lint.gate', 'test.gate']);
      expect(report).toMatchObject({ seriesParallel: true, addedSyncPoints: 0, criticalPathDag: 3, criticalPathCompiled: 3 });
      expect(validateAsl(asl).errors).toBe('');
    });

    it('should report the synchronisation it adds to a DAG that is not series-parallel', () => {
      // Arrange: a → c ← b → d
      const definition = workflow(step('a'), step('b'), step('c', ['a', 'b']), step('d', ['b']));

      // Act
      const { asl, report } = compileWorkflow(definition, OPTIONS);

      // Assert
      expect(report).toMatchObject({ seriesParallel: false, addedSyncPoints: 1, addedOrderings: 1, criticalPathDag: 2, criticalPathCompiled: 2 });
      expect(validateAsl(asl).errors).toBe('');
    });

    it('should produce byte-identical output for the same input', () => {
      // Arrange
      const options = { ...OPTIONS, expectedItems: { analyze: 500 } };

      // Act
      const first = compileWorkflow(contractExample(), options);
      const second = compileWorkflow(structuredClone(contractExample()), structuredClone(options));

      // Assert
      expect(second.aslJson).toBe(first.aslJson);
      expect(JSON.parse(first.aslJson)).toEqual(first.asl);
      expect(second.report).toEqual(first.report);
    });

    it('should be deterministic for random workflows', () => {
      fc.assert(
        fc.property(fc.array(fc.array(fc.nat(), { maxLength: 3 }), { minLength: 1, maxLength: 30 }), (picks) => {
          const definition = workflow(...picks.map((p, i) => step(`s${i}`, i === 0 ? [] : [...new Set(p.map((x) => `s${x % i}`))])));
          expect(compileWorkflow(definition, OPTIONS).aslJson).toBe(compileWorkflow(structuredClone(definition), OPTIONS).aslJson);
        }),
        { numRuns: 50 },
      );
    });

    it('should refuse a definition with a cycle', () => {
      expect(() => compileWorkflow(workflow(step('a', ['b']), step('b', ['a'])), OPTIONS)).toThrow(WorkflowCompileError);
      expect(() => compileWorkflow(workflow(step('a', ['b']), step('b', ['a'])), OPTIONS)).toThrow('a → b → a');
    });
  });

  describe('engine tasks', () => {
    it('should gate every step with a callback task on the gate function, and never hard-code the bucket', () => {
      // Act
      const { asl } = compileWorkflow(contractExample(), OPTIONS);

      // Assert
      const gate = findState(machineOf(asl), 'generate.gate')!;
      expect(gate).toMatchObject({
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
        Parameters: {
          FunctionName: OPTIONS.functions.gate,
          Payload: {
            'taskToken.$': '$$.Task.Token',
            'runId.$': '$.runId',
            stepId: 'generate',
            step: { forEach: 'analyze', config: { package: '${params.javaPackage}' }, mode: 'adaptive' },
          },
        },
        ResultPath: '$.step',
      });
      expect(JSON.stringify(asl)).not.toMatch(/"Bucket":/);
      expect(JSON.stringify(asl)).toContain('"Bucket.$":"$.workspace.bucket"');
    });

    it('should use the bucket given in the options', () => {
      const { asl } = compileWorkflow(workflow(step('a', [], { forEach: 'inputs', distributed: true })), { ...OPTIONS, workspaceBucket: 'my-workspace' });
      expect((findState(machineOf(asl), 'a')!.ItemReader as { Parameters: unknown }).Parameters).toEqual({
        Bucket: 'my-workspace',
        'Key.$': "States.Format('runs/{}/state/a/manifest.json', $.runId)",
      });
    });

    it('should retry retryable agent errors only, with the step policy and full jitter, and catch the rest', () => {
      // Arrange
      const definition = workflow(
        step('a', [], { retry: { maxAttempts: 4, intervalSeconds: 3, backoffRate: 1.5, maxDelaySeconds: 60 }, timeoutSeconds: 120 }),
      );

      // Act
      const { asl } = compileWorkflow(definition, OPTIONS);

      // Assert
      const task = findState(machineOf(asl), 'a')!;
      expect(task.TimeoutSeconds).toBe(120);
      expect(task.Retry).toEqual([
        {
          ErrorEquals: ['Lambda.TooManyRequestsException', AgentplaneErrorName.AgentBusy],
          IntervalSeconds: 1,
          MaxAttempts: 6,
          BackoffRate: 2,
          MaxDelaySeconds: 30,
          JitterStrategy: 'FULL',
        },
        {
          ErrorEquals: [
            AgentplaneErrorName.Retryable,
            'Lambda.ServiceException',
            'Lambda.AWSLambdaException',
            'Lambda.SdkClientException',
            'Lambda.ClientExecutionTimeoutException',
            'States.Timeout',
          ],
          IntervalSeconds: 3,
          MaxAttempts: 4,
          BackoffRate: 1.5,
          MaxDelaySeconds: 60,
          JitterStrategy: 'FULL',
        },
      ]);
      expect(JSON.stringify(task.Retry)).not.toContain(AgentplaneErrorName.Fatal);
      expect(task.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'a.failed' }]);
      expect(task.Parameters).toMatchObject({ 'FunctionName.$': '$.step.agent.functionArn', Payload: { items: [], 'config.$': '$.step.config' } });
    });
  });

  describe('fan-out', () => {
    it('should compile a small fan-out to an inline Map over the gate batches', () => {
      // Act
      const { asl, report } = compileWorkflow(contractExample(), { ...OPTIONS, expectedItems: { analyze: 50 } });

      // Assert
      const map = findState(machineOf(asl), 'analyze')!;
      expect(map).toMatchObject({
        Type: 'Map',
        ItemsPath: '$.step.batches',
        MaxConcurrencyPath: '$.step.maxConcurrency',
        ItemSelector: { 'Items.$': '$$.Map.Item.Value' },
        ItemProcessor: { ProcessorConfig: { Mode: 'INLINE' }, StartAt: 'analyze.item' },
      });
      expect(report.mapModes).toEqual({ analyze: 'inline', generate: 'inline' });
      expect(report.inlineMaxItems.analyze).toBeGreaterThanOrEqual(50);
      expect(validateAsl(asl).errors).toBe('');
    });

    it('should compile a large or forced fan-out to a Distributed Map reading a manifest from the workspace', () => {
      // Act
      const { asl, report } = compileWorkflow(contractExample(), { ...OPTIONS, expectedItems: { analyze: 5000 } });

      // Assert
      const map = findState(machineOf(asl), 'analyze')!;
      expect(map).toEqual(
        expect.objectContaining({
          Type: 'Map',
          Label: 'analyze',
          ItemReader: {
            Resource: 'arn:aws:states:::s3:getObject',
            ReaderConfig: { InputType: 'JSON' },
            Parameters: { 'Bucket.$': '$.workspace.bucket', 'Key.$': "States.Format('runs/{}/state/analyze/manifest.json', $.runId)" },
          },
          ItemBatcher: expect.objectContaining({ MaxItemsPerBatch: 1 }) as unknown,
          ResultWriter: {
            Resource: 'arn:aws:states:::s3:putObject',
            Parameters: { 'Bucket.$': '$.workspace.bucket', 'Prefix.$': "States.Format('runs/{}/state/analyze/results', $.runId)" },
          },
          ToleratedFailurePercentage: 5,
          MaxConcurrencyPath: '$.step.maxConcurrency',
        }),
      );
      expect(map.ItemProcessor).toMatchObject({ ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' }, StartAt: 'analyze.batch' });
      expect(report.mapModes).toEqual({ analyze: 'distributed', generate: 'distributed' });
      expect(validateAsl(asl).errors).toBe('');
    });

    it('should honour distributed: true and batchSize', () => {
      const { asl, report } = compileWorkflow(workflow(step('a', [], { forEach: 'inputs', distributed: true, batchSize: 25 })), { ...OPTIONS, expectedItems: { a: 3 } });
      expect(report.mapModes).toEqual({ a: 'distributed' });
      expect(findState(machineOf(asl), 'a')!.ItemBatcher).toMatchObject({ MaxItemsPerBatch: 25, BatchInput: { stepId: 'a' } });
    });

    it('should choose between inline and distributed at run time when the item count is unknown', () => {
      // Act
      const { asl, report } = compileWorkflow(workflow(step('a', [], { forEach: 'inputs' })), OPTIONS);

      // Assert
      expect(report.mapModes).toEqual({ a: 'adaptive' });
      expect(findState(machineOf(asl), 'a.mode')).toEqual({
        Type: 'Choice',
        Choices: [{ Variable: '$.step.itemCount', NumericLessThanEquals: report.inlineMaxItems.a, Next: 'a' }],
        Default: 'a.distributed',
      });
      expect(findState(machineOf(asl), 'a.distributed')!.ItemProcessor).toMatchObject({ ProcessorConfig: { Mode: 'DISTRIBUTED' } });
      expect(validateAsl(asl).errors).toBe('');
    });

    it('should never emit inline Maps whose worst-case history could pass 25,000 events', () => {
      fc.assert(
        fc.property(
          fc.array(fc.record({ items: fc.option(fc.integer({ min: 0, max: 400 }), { nil: undefined }), attempts: fc.integer({ min: 0, max: 10 }), batch: fc.integer({ min: 1, max: 3 }) }), { minLength: 1, maxLength: 25 }),
          (specs) => {
            // Arrange
            const definition = workflow(...specs.map((s, i) => step(`f${i}`, i === 0 ? [] : [`f${i - 1}`], { forEach: 'inputs', batchSize: s.batch, retry: { maxAttempts: s.attempts } })));
            const expectedItems = Object.fromEntries(specs.flatMap((s, i) => (s.items === undefined ? [] : [[`f${i}`, s.items]])));

            // Act
            const { report } = compileWorkflow(definition, { ...OPTIONS, expectedItems });

            // Assert
            expect(report.maxHistoryEvents).toBeLessThanOrEqual(HISTORY_EVENT_LIMIT);
            for (const [id, mode] of Object.entries(report.mapModes)) {
              if (mode === 'inline') expect(report.inlineMaxItems[id]).toBeGreaterThanOrEqual(expectedItems[id]);
              if (mode !== 'distributed') expect(report.inlineMaxItems[id]).toBeLessThanOrEqual(200);
            }
          },
        ),
        { numRuns: 100 },
      );
    });

    it('should move fan-outs to Distributed Map when their inline history would not fit', () => {
      // Arrange: ten 100-item fan-outs with 10 retries each cannot all be inline.
      const definition = workflow(...Array.from({ length: 10 }, (_, i) => step(`f${i}`, [], { forEach: 'inputs', retry: { maxAttempts: 10 } })));
      const expectedItems = Object.fromEntries(definition.steps.map((s) => [s.id, 100]));

      // Act
      const { report } = compileWorkflow(definition, { ...OPTIONS, expectedItems });

      // Assert
      expect(Object.values(report.mapModes)).toContain('distributed');
      expect(Object.values(report.mapModes)).toContain('inline');
      expect(report.maxHistoryEvents).toBeLessThanOrEqual(HISTORY_EVENT_LIMIT);
    });

    it('should give single steps the fallback passes the history budget leaves, fewer in a long chain', () => {
      const short = compileWorkflow(workflow(step('a'), step('b', ['a']), step('c', ['b'], { forEach: 'inputs' })), OPTIONS).report;
      expect(short.agentPasses).toEqual({ a: 3, b: 3, c: 2 });
      const chain = workflow(...Array.from({ length: 150 }, (_, i) => step(`s${i}`, i > 0 ? [`s${i - 1}`] : [])));
      const long = compileWorkflow(chain, OPTIONS).report;
      expect(long.warnings).toEqual([]);
      expect(long.maxHistoryEvents).toBeLessThanOrEqual(HISTORY_EVENT_LIMIT);
      expect(new Set(Object.values(long.agentPasses)).size).toBe(1);
      expect(long.agentPasses.s0).toBeGreaterThanOrEqual(1);
      expect(long.agentPasses.s0).toBeLessThan(3);
    });

    it('should warn when even a fully distributed machine can pass the history limit', () => {
      const definition = workflow(...Array.from({ length: 600 }, (_, i) => step(`s${i}`, i === 0 ? [] : [`s${i - 1}`])));
      const { report } = compileWorkflow(definition, OPTIONS);
      expect(report.warnings.map((w) => w.code)).toContain('history.limit');
    });
  });

  describe('conditions', () => {
    it('should plan conditions before the first step and skip steps whose dependencies were all skipped', () => {
      // Act
      const { asl } = compileWorkflow(contractExample(), OPTIONS);

      // Assert
      const machine = machineOf(asl);
      expect(machine.StartAt).toBe('plan(init)');
      expect(machine.States['generate.plan']).toEqual({
        Type: 'Choice',
        Choices: [{ Not: { Variable: '$.parameters.targetLanguage', StringEquals: 'java' }, Next: 'generate.plan.condition' }],
        Default: 'generate.plan.run',
      });
      expect(machine.States['report.plan']).toMatchObject({
        Choices: [{ Not: { Variable: '$.plan.generate', StringEquals: 'run' }, Next: 'report.plan.upstream' }],
      });
      expect(findState(machine, 'generate.when')).toEqual({
        Type: 'Choice',
        Choices: [{ Variable: '$.plan.generate', StringEquals: 'run', Next: 'generate.gate' }],
        Default: 'generate.skipped',
      });
      expect(findState(machine, 'generate.skipped')).toMatchObject({ Parameters: { Payload: { status: 'skipped', 'reason.$': '$.plan.generate' } } });
    });

    it('should guard tests on parameters without a default and type the comparisons', () => {
      // Arrange
      const definition: WorkflowDefinition = {
        id: 'typed',
        parameters: { level: { type: 'integer' }, flag: { type: 'boolean', default: false } },
        steps: [step('a', [], { when: { any: [{ param: 'level', in: [1, 2] }, { param: 'flag', equals: true }] } })],
      };

      // Act
      const { asl } = compileWorkflow(definition, OPTIONS);

      // Assert
      expect(machineOf(asl).States['a.plan']).toMatchObject({
        Choices: [
          {
            Not: {
              Or: [
                { And: [{ Variable: '$.parameters.level', IsPresent: true }, { Or: [{ Variable: '$.parameters.level', NumericEquals: 1 }, { Variable: '$.parameters.level', NumericEquals: 2 }] }] },
                { Variable: '$.parameters.flag', BooleanEquals: true },
              ],
            },
          },
        ],
      });
    });
  });

  describe('execution on the local interpreter', () => {
    it('should run the contract example in dependency order and skip generate and report for kotlin', async () => {
      // Arrange
      const definition = contractExample();
      const { asl } = compileWorkflow(definition, OPTIONS);

      // Act
      const java = await runCompiled(definition, machineOf(asl), { parameters: { targetLanguage: 'java', javaPackage: 'p' }, inputs: ['a.cbl', 'b.cbl'] });
      const kotlin = await runCompiled(definition, machineOf(asl), { parameters: { targetLanguage: 'kotlin', javaPackage: 'p' }, inputs: ['a.cbl', 'b.cbl'] });

      // Assert
      const summary = (events: typeof java.events) => events.filter((e) => e.kind !== 'agent').map((e) => `${e.kind}:${e.stepId}`);
      expect(summary(java.events)).toEqual(['gate:analyze', 'done:analyze', 'gate:dependencies', 'done:dependencies', 'gate:generate', 'done:generate', 'gate:report', 'done:report']);
      expect(java.itemsOf.get('generate')).toEqual(['a.cbl>analyze>generate', 'b.cbl>analyze>generate']);
      expect(summary(kotlin.events)).toEqual(['gate:analyze', 'done:analyze', 'gate:dependencies', 'done:dependencies', 'skipped:generate', 'skipped:report']);
    });

    it('should show the waiting a synchronisation point adds, and none in a series-parallel DAG', async () => {
      // Arrange: a → c ← b → d. b and c fan out over no inputs (no agent work); a and d are busy.
      // The DAG lets d run beside a; the compiled sync point (a, b) before (c, d) makes d wait for a.
      const nShaped = workflow(step('a'), step('b', [], { forEach: 'inputs' }), step('c', ['a', 'b'], { forEach: 'inputs' }), step('d', ['b']));
      const diamond = workflow(step('a'), step('b', ['a'], { forEach: 'inputs' }), step('c', ['a']), step('d', ['b', 'c']));

      // Act
      const runs = [];
      for (const definition of [nShaped, diamond]) {
        const { asl, report } = compileWorkflow(definition, OPTIONS);
        const trace = await runCompiled(definition, machineOf(asl), { parameters: {}, inputs: [] });
        const busy = (id: string) => (trace.events.some((e) => e.kind === 'agent' && e.stepId === id) ? 1 : 0);
        const dag = { nodes: definition.steps.map((s) => s.id), edges: definition.steps.flatMap((s) => (s.dependsOn ?? []).map((d) => [d, s.id] as [string, string])) };
        runs.push({ seriesParallel: report.seriesParallel, rounds: trace.rounds, ideal: criticalPath(dag, busy).length });
      }

      // Assert
      expect(runs).toEqual([
        { seriesParallel: false, rounds: 2, ideal: 1 },
        { seriesParallel: true, rounds: 3, ideal: 3 },
      ]);
    });

    it('should retry a retryable agent error, tolerate a fatal item failure and report it', async () => {
      // Arrange
      const definition = workflow(step('a', [], { forEach: 'inputs', toleratedFailurePercentage: 50 }));
      const { asl } = compileWorkflow(definition, { ...OPTIONS, expectedItems: { a: 2 } });
      const attempts: Record<string, number[]> = {};
      let reported: unknown;
      const handlers = {
        'a.gate': async () => ({ agent: { functionArn: 'arn:agent' }, config: {}, upstream: [], maxConcurrency: 0, itemCount: 2, batches: [[{ key: 'ok' }], [{ key: 'bad' }]] }),
        'a.item': async (input: unknown) => {
          const { Payload } = input as { Payload: { items: { key: string }[]; attempt: number } };
          const key = Payload.items[0].key;
          (attempts[key] ??= []).push(Payload.attempt);
          if (key === 'ok' && attempts[key].length === 1) throw Object.assign(new Error('overloaded'), { name: AgentplaneErrorName.Retryable });
          if (key === 'bad') throw Object.assign(new Error('cannot parse'), { name: AgentplaneErrorName.Fatal });
          return { Payload: { results: [{ item: key, status: 'succeeded' }] } };
        },
        'a.done': async (input: unknown) => {
          reported = (input as { Payload: unknown }).Payload;
          return {};
        },
      };

      // Act
      const machine = new StateMachine(asl as never, { validationOptions: { noValidate: true } });
      await machine.run({ runId: 'r', parameters: {}, workspace: { bucket: 'b', prefix: 'runs/r/' } }, {
        overrides: { taskResourceLocalHandlers: handlers, retryIntervalOverrides: { 'a.item': 0 } },
        context: { Task: { Token: 't' }, State: { RetryCount: 0 } },
      }).result;

      // Assert
      expect(attempts.ok).toHaveLength(2);
      expect(attempts.bad).toHaveLength(1);
      expect(reported).toMatchObject({
        stepId: 'a',
        status: 'succeeded',
        mode: 'inline',
        toleratedFailurePercentage: 50,
        outcome: [{ results: [{ item: 'ok', status: 'succeeded' }] }, { failed: true, items: [{ key: 'bad' }], error: { Error: AgentplaneErrorName.Fatal } }],
      });
    });

    it('should record a fatal step failure and fail the execution with Agentplane.StepFailed', async () => {
      // Arrange
      const { asl } = compileWorkflow(workflow(step('a')), OPTIONS);
      const calls: string[] = [];
      const handlers = {
        'a.gate': async () => ({ agent: { functionArn: 'arn:agent' }, config: {}, upstream: [], maxConcurrency: 0 }),
        a: async () => {
          calls.push('a');
          throw Object.assign(new Error('bad input'), { name: AgentplaneErrorName.Fatal });
        },
        'a.failed': async (input: unknown) => {
          calls.push(`failed:${(input as { Payload: { error: { Error: string } } }).Payload.error.Error}`);
          return {};
        },
      };

      // Act
      const machine = new StateMachine(asl as never, { validationOptions: { noValidate: true } });
      const result = machine.run({ runId: 'r', parameters: {}, workspace: { bucket: 'b', prefix: 'runs/r/' } }, {
        overrides: { taskResourceLocalHandlers: handlers },
        context: { Task: { Token: 't' }, State: { RetryCount: 0 } },
      }).result;

      // Assert
      await expect(result).rejects.toMatchObject({ cause: { name: AgentplaneErrorName.StepFailed } });
      expect(calls).toEqual(['a', `failed:${AgentplaneErrorName.Fatal}`]);
    });
  });

  it('should produce machines asl-validator accepts for every validated example', () => {
    const examples: WorkflowDefinition[] = [
      contractExample(),
      workflow(step('only')),
      workflow(step('a', [], { forEach: 'inputs' }), step('b', ['a'], { forEach: 'a', distributed: true }), step('c', ['a'])),
    ];
    for (const definition of examples) {
      expect(validateWorkflow(definition).errors).toEqual([]);
      const counts: Array<Record<string, number>> = [{}, { a: 10, analyze: 10 }, { a: 10_000, analyze: 10_000 }];
      for (const expectedItems of counts) {
        expect(validateAsl(compileWorkflow(definition, { ...OPTIONS, expectedItems }).asl).errors).toBe('');
      }
    }
  });
});
