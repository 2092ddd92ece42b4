import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { defineAgent, type ObjectStore } from '../../../lambdas/core/agent-runtime';
import { fakeRuntimeDeps } from '../../support/runtime-deps';
import { OfflineProvider } from '../../../lambdas/llm/index';
import { analysisItem, generationItem, MIGRATION_SKILLS, reportItem } from '../../../lambdas/migration/agents/agents';
import { migrationAgentRegistrations } from '../../../lambdas/migration/agents/registrations';
import { AgentRegistrationSchema } from '../../../lambdas/core/registry/agent';
import { compileWorkflow } from '../../../lambdas/core/workflow/compile';
import { validateWorkflow } from '../../../lambdas/core/workflow/validate';
import type { WorkflowDefinition } from '../../../lambdas/core/workflow/schema';
import { corpusWorkspace } from './support';

const RUN = 'r-mig';
const BUCKET = 'ws';

/** The corpus in an object store, under the run's prefix, as S3 would hold it. */
function corpusStore(): ObjectStore & { objects: Map<string, Uint8Array | string> } {
  const objects = new Map<string, Uint8Array | string>();
  for (const [k, v] of corpusWorkspace().objects) objects.set(`runs/${RUN}/${k}`, v);
  return {
    objects,
    async put(_b, key, body) {
      objects.set(key, body);
    },
    async get(_b, key) {
      const v = objects.get(key);
      return v === undefined ? undefined : typeof v === 'string' ? Buffer.from(v) : v;
    },
    async list(_b, prefix) {
      return [...objects.keys()].filter((k) => k.startsWith(prefix)).sort().map((key) => ({ key, size: 1 }));
    },
  };
}

function runtime() {
  const objects = corpusStore();
  // No replay: each test invokes an agent once per item.
  const { deps, events } = fakeRuntimeDeps({ objects, idempotent: async (_a, _k, fn) => fn() });
  return { deps, events, objects };
}

const context = { getRemainingTimeInMillis: () => 900_000, functionName: 'f' } as unknown as Context;
const event = (stepId: string, items: string[], extra: Record<string, unknown> = {}) => ({
  runId: RUN,
  stepId,
  items: items.map((k) => ({ key: `runs/${RUN}/${k}` })),
  workspace: { bucket: BUCKET, prefix: `runs/${RUN}/` },
  ...extra,
});

describe('Agents on the agent runtime', () => {
  it('cobol-analysis should fail the malformed program with its diagnostics and pass copybooks as skipped', async () => {
    const { deps, events } = runtime();
    const handler = defineAgent({ agentId: 'cobol-analysis', deps, processItem: (item, ctx) => analysisItem(item, ctx) });
    const out = await handler(event('analyze', ['inputs/INTCALC.cbl', 'inputs/BADPROG.cbl', 'inputs/copybooks/RATETBL.cpy']), context);
    expect(out.results.map((r) => [r.status, r.outputKey ?? r.error?.type])).toEqual([
      ['succeeded', `runs/${RUN}/outputs/analyze/INTCALC.json`],
      ['failed', 'CobolAnalysisError'],
      ['succeeded', `runs/${RUN}/outputs/analyze-skipped/copybooks/RATETBL.cpy.json`],
    ]);
    const failed = events.find((e) => e.event === 'ItemFailed')!.payload;
    expect(failed.retry).toBeNull();
    expect(failed.error.message).toContain('BADPROG.cbl: 15 error(s) in the COBOL source: 11:12 error: indexed file LOAN-FILE has no RECORD KEY');
  });

  it('java-generation should put the LLM tokens, cost and provider in ItemCompleted and report progress', async () => {
    const { deps, events, objects } = runtime();
    const analyze = defineAgent({ agentId: 'cobol-analysis', deps, processItem: (item, ctx) => analysisItem(item, ctx) });
    await analyze(event('analyze', ['inputs/INTACCR.cbl']), context);
    const llm = new OfflineProvider();
    const generate = defineAgent({ agentId: 'java-generation', deps, processItem: (item, ctx) => generationItem(item, ctx, { llm: async () => llm }) });
    const out = await generate(event('generate', ['outputs/analyze/INTACCR.json', 'outputs/analyze-skipped/jcl/EODBATCH.jcl.json'], { config: { javaPackage: 'org.acme.bank' } }), context);
    expect(out.results.map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
    const completed = events.filter((e) => e.event === 'ItemCompleted' && e.payload.stepId === 'generate').map((e) => e.payload);
    expect(completed[0].outputKey).toBe(`runs/${RUN}/outputs/generate/INTACCR.json`);
    expect(completed[0].metrics.tokensUsed).toBeGreaterThan(1_000);
    // Offline: real-looking tokens, no invented price, and it says so.
    expect(completed[0].metrics).toMatchObject({ costUsd: 0, provider: 'offline', model: 'offline-deterministic-1' });
    expect(completed[1].metrics.tokensUsed).toBe(0);
    expect(completed[1].metrics).not.toHaveProperty('provider');
    const progress = events.filter((e) => e.event === 'ItemProgress');
    expect(progress.at(-1)!.payload).toMatchObject({ progress: 1, tokensUsed: completed[0].metrics.tokensUsed, costUsd: 0, provider: 'offline' });
    expect(out.results[0]).toMatchObject({ spendRecorded: true, metrics: { provider: 'offline' } });
    expect([...objects.objects.keys()]).toContain(`runs/${RUN}/outputs/java/org/acme/bank/intaccr/Intaccr.java`);
  });

  it('report-writing should write the report from what is in the workspace', async () => {
    const { deps, objects } = runtime();
    const handler = defineAgent({ agentId: 'report-writing', deps, processItem: (item, ctx) => reportItem(item, ctx, { now: () => Date.UTC(2026, 0, 2) }) });
    const out = await handler(event('report', [], { config: { usage: [{ agent: 'java-generation', inputTokens: 10, outputTokens: 5, costUsd: 0.5, calls: 1 }] } }), context);
    expect(out.results[0]).toMatchObject({ status: 'succeeded', outputKey: `runs/${RUN}/reports/migration-report.md` });
    const md = Buffer.from(objects.objects.get(`runs/${RUN}/reports/migration-report.md`)!).toString();
    expect(md).toContain(`_Run ${RUN}, generated 2026-01-02T00:00:00.000Z_`);
    expect(md).toContain('| Total | - | 10 | 5 | 0 | $0.5000 |');
  });
});

describe('Workflow: samples/workflows/cobol-to-java.json', () => {
  const definition = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', '..', 'samples', 'workflows', 'cobol-to-java.json'), 'utf8')) as WorkflowDefinition;

  it('should validate strictly against the migration skills and compile', () => {
    const v = validateWorkflow(definition, { strict: true, knownSkills: new Set(MIGRATION_SKILLS) });
    expect(v.errors).toEqual([]);
    expect(v.warnings).toEqual([]);
    expect(definition.steps.map((s) => s.capability.skill)).toEqual([...MIGRATION_SKILLS]);
    const { asl } = compileWorkflow(v.definition!, { functions: { gate: 'arn:aws:lambda:eu-west-1:1:function:gate', reporter: 'arn:aws:lambda:eu-west-1:1:function:reporter' } });
    expect(JSON.stringify(asl)).toContain('"analyze"');
  });
});

describe('Function: migrationAgentRegistrations', () => {
  it('should give registry records the registry accepts, one per skill', () => {
    const arns = Object.fromEntries(MIGRATION_SKILLS.map((s) => [s, `arn:aws:lambda:eu-west-1:123456789012:function:agentplane-${s}`])) as Record<(typeof MIGRATION_SKILLS)[number], string>;
    const regs = migrationAgentRegistrations(arns, { llmMaxConcurrency: 8 });
    expect(regs.map((r) => r.id)).toEqual([...MIGRATION_SKILLS]);
    for (const r of regs) expect(AgentRegistrationSchema.safeParse(r).error).toBeUndefined();
    expect(regs.find((r) => r.id === 'java-generation')!.maxConcurrency).toBe(8);
  });
});
