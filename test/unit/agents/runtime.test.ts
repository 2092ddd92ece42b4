import { describe, expect, it } from 'vitest';
import type { Context } from 'aws-lambda';
import { defineAgent, foldOutcomes, RetryableAgentError, WorkspaceClient, classifyError, parseAgentInput, nextRetry, type ObjectStore, type RuntimeDeps } from '../../../lambdas/core/agent-runtime';
import { DEFAULT_CIRCUIT_CONFIG, initialCircuit } from '../../../lambdas/core/registry/circuit';
import { fakeRuntimeDeps } from '../../support/runtime-deps';

function memoryStore(): ObjectStore & { objects: Map<string, string> } {
  const objects = new Map<string, string>();
  return {
    objects,
    async put(bucket, key, body) {
      objects.set(`${bucket}/${key}`, typeof body === 'string' ? body : Buffer.from(body).toString('utf8'));
    },
    async get(bucket, key) {
      const v = objects.get(`${bucket}/${key}`);
      return v === undefined ? undefined : Buffer.from(v);
    },
    async list(bucket, prefix) {
      return [...objects.keys()].filter((k) => k.startsWith(`${bucket}/${prefix}`)).map((k) => ({ key: k.slice(bucket.length + 1), size: 1 }));
    },
  };
}

function fakeDeps(over: Partial<RuntimeDeps> & { maxConcurrency?: number; busy?: boolean } = {}) {
  const recorded: Array<{ agentId: string; outcomes: unknown }> = [];
  const circuitWrites: Array<{ agentId: string; state: unknown }> = [];
  const leases: string[] = [];
  const released: string[] = [];
  let clock = 1_000;
  const objects = memoryStore();
  const { deps, events } = fakeRuntimeDeps({
    objects,
    agent: async (id) => (id === 'unknown' ? undefined : { id, ...(over.maxConcurrency ? { maxConcurrency: over.maxConcurrency } : {}), circuit: initialCircuit() }),
    recordMetrics: async (agentId, outcomes) => void recorded.push({ agentId, outcomes }),
    updateCircuit: async (agentId, apply, hint) => void circuitWrites.push({ agentId, state: apply(hint ?? initialCircuit()).state }),
    acquireLease: async () => {
      if (over.busy) return { ok: false, held: over.maxConcurrency ?? 1 };
      leases.push('lease-1');
      return { ok: true, lease: { id: 'lease-1', expiresAt: 0 } };
    },
    releaseLease: async (_a, id) => void released.push(id),
    clock: () => (clock += 5),
    ...over,
  });
  return { deps, events, recorded, circuitWrites, leases, released, objects };
}

const context = { getRemainingTimeInMillis: () => 60_000, functionName: 'f' } as unknown as Context;
const input = (over: Record<string, unknown> = {}) => ({
  runId: 'r1',
  stepId: 's1',
  items: [{ key: 'inputs/a' }, { key: 'inputs/b' }],
  workspace: { bucket: 'b', prefix: 'runs/r1/' },
  config: {},
  ...over,
});

describe('Middleware: agentRuntime', () => {
  describe('Method: handler (defineAgent)', () => {
    it('should run every item, emit the item events with metrics, record metrics and release the lease', async () => {
      const { deps, events, recorded, released } = fakeDeps({ maxConcurrency: 2 });
      const handler = defineAgent({
        agentId: 'a1',
        deps,
        processItem: async (item, ctx) => {
          await ctx.progress(0.5, { tokensUsed: 10 });
          await ctx.workspace.putJson(`outputs/${item.key}.json`, { ok: true });
          return { tokensUsed: 20, costUsd: 0.01 };
        },
      });
      const out = await handler(input(), context);
      expect(out.results.map((r) => [r.status, r.outputKey])).toEqual([
        ['succeeded', 'runs/r1/outputs/inputs/a.json'],
        ['succeeded', 'runs/r1/outputs/inputs/b.json'],
      ]);
      expect(events.map((e) => e.event)).toEqual(['ItemStarted', 'ItemProgress', 'ItemCompleted', 'ItemStarted', 'ItemProgress', 'ItemCompleted']);
      expect(events[0].payload).toMatchObject({ stepId: 's1', item: 'inputs/a', index: 0, total: 2, agentId: 'a1', attempt: 1 });
      expect(events[2].payload.metrics).toMatchObject({ tokensUsed: 20, costUsd: 0.01, retryCount: 0 });
      expect(recorded).toEqual([{ agentId: 'a1', outcomes: [expect.objectContaining({ ok: true }), expect.objectContaining({ ok: true })] }]);
      expect(released).toEqual(['lease-1']);
    });

    it('should throw Agentplane.AgentBusy when the semaphore is full, running nothing', async () => {
      const { deps, events } = fakeDeps({ maxConcurrency: 1, busy: true });
      const handler = defineAgent({ agentId: 'a1', deps, processItem: async () => ({ outputKey: 'outputs/x' }) });
      await expect(handler(input(), context)).rejects.toMatchObject({ name: 'Agentplane.AgentBusy', message: expect.stringMatching(/concurrency limit \(1 of 1 in flight\)/) as unknown });
      expect(events).toEqual([]);
    });

    it('should reject a malformed input as Agentplane.Fatal with JSON paths', async () => {
      const { deps } = fakeDeps();
      const handler = defineAgent({ agentId: 'a1', deps, processItem: async () => ({}) });
      await expect(handler({ runId: 'r1', items: 'x' }, context)).rejects.toMatchObject({ name: 'Agentplane.Fatal', message: expect.stringMatching(/\$\.items/) as unknown });
      await expect(handler(input({ workspace: { bucket: 'b', prefix: 'runs/other/' } }), context)).rejects.toMatchObject({ name: 'Agentplane.Fatal' });
      await expect(handler(input({ agentId: 'unknown' }), context)).rejects.toThrow(/not registered/);
    });

    it('should fail an item writing outside the run prefix, writing nothing, and keep going', async () => {
      const { deps, events, objects } = fakeDeps();
      const handler = defineAgent({
        agentId: 'a1',
        deps,
        processItem: async (item, ctx) => ({ outputKey: await ctx.workspace.put(item.key === 'inputs/a' ? 'runs/r2/steal' : 'outputs/ok', 'x') }),
      });
      const out = await handler(input(), context);
      expect(out.results[0]).toMatchObject({ status: 'failed', error: { type: 'Agentplane.Fatal', message: expect.stringMatching(/Workspace violation/) as unknown } });
      expect(out.results[1].status).toBe('succeeded');
      expect([...objects.objects.keys()]).toEqual(['b/runs/r1/outputs/ok']);
      expect(events.find((e) => e.event === 'ItemFailed')!.payload.retry).toBeNull();
    });

    it('should throw Agentplane.Retryable while retries remain and return the failure on the last attempt', async () => {
      const { deps, events } = fakeDeps();
      const handler = defineAgent({
        agentId: 'a1',
        deps,
        processItem: async (item, ctx) => {
          if (item.key === 'inputs/b') throw new RetryableAgentError('model overloaded');
          return { outputKey: await ctx.workspace.put('outputs/a', 'x') };
        },
      });
      const policy = { maxAttempts: 1, intervalSeconds: 1, backoffRate: 2 };
      await expect(handler(input({ retry: policy, attempt: 1 }), context)).rejects.toMatchObject({ name: 'Agentplane.Retryable' });
      const last = await handler(input({ retry: policy, attempt: 2 }), context);
      expect(last.results.map((r) => r.status)).toEqual(['succeeded', 'failed']);
      expect(last.results[1].error!.type).toBe('Agentplane.Retryable');
      // Item a completed at attempt 1 and was served from the idempotency store at attempt 2.
      expect(events.filter((e) => e.event === 'ItemStarted').map((e) => e.payload.item)).toEqual(['inputs/a', 'inputs/b', 'inputs/b']);
      expect(events.filter((e) => e.event === 'ItemFailed').map((e) => e.payload.retry)).toEqual([{ attempt: 2, nextDelayMs: 1000 }, null]);
    });

    describe('spend of every attempt', () => {
      const usage = (tokensUsed: number, costUsd: number) => ({ tokensUsed, costUsd, provider: 'openai', model: 'gpt-x' });

      it('should report what a failing attempt spent (retryable or fatal), with its provider and model, and mark results as counted', async () => {
        const { deps, events } = fakeDeps();
        const handler = defineAgent({
          agentId: 'a1',
          deps,
          processItem: async (item, ctx) => {
            // One LLM call spent before the failure: reported through progress, as it happens.
            await ctx.progress(0.5, usage(120, 0.0006));
            if (item.key === 'inputs/a') throw new RetryableAgentError('model answer unusable');
            throw new Error('bad item');
          },
        });
        const policy = { maxAttempts: 1, intervalSeconds: 1, backoffRate: 2 };
        await expect(handler(input({ retry: policy, attempt: 1 }), context)).rejects.toMatchObject({ name: 'Agentplane.Retryable' });
        const last = await handler(input({ retry: policy, attempt: 2 }), context);
        const failed = events.filter((e) => e.event === 'ItemFailed').map((e) => [e.payload.item, e.payload.retry?.attempt ?? null, e.payload.metrics]);
        const spent = { tokensUsed: 120, costUsd: 0.0006, provider: 'openai', model: 'gpt-x' };
        expect(failed).toEqual([
          ['inputs/a', 2, expect.objectContaining({ ...spent, retryCount: 0 })],
          ['inputs/b', null, expect.objectContaining({ ...spent, retryCount: 0 })],
          // Attempt 2 runs a again (b failed fatally: its stored result is replayed, not run again).
          ['inputs/a', null, expect.objectContaining({ ...spent, retryCount: 1 })],
        ]);
        expect(events.filter((e) => e.event === 'ItemProgress')[0].payload).toMatchObject({ tokensUsed: 120, costUsd: 0.0006, provider: 'openai', model: 'gpt-x' });
        expect(last.results.map((r) => [r.status, r.spendRecorded, r.metrics.costUsd])).toEqual([
          ['failed', true, 0.0006],
          ['failed', true, 0.0006],
        ]);
      });

      it("should take the item's own figures when it returns them, else what progress last reported", async () => {
        const { deps, events } = fakeDeps();
        const handler = defineAgent({
          agentId: 'a1',
          deps,
          processItem: async (item, ctx) => {
            await ctx.progress(0.3, usage(50, 0.002));
            await ctx.progress(0.6, { tokensUsed: 40 }); // cumulative: never goes back
            const outputKey = await ctx.workspace.put(`outputs/${item.key}`, 'x');
            return item.key === 'inputs/a' ? { outputKey } : { outputKey, ...usage(300, 0.01), provider: 'bedrock', model: 'nova' };
          },
        });
        const out = await handler(input(), context);
        const completed = events.filter((e) => e.event === 'ItemCompleted').map((e) => e.payload.metrics);
        expect(completed[0]).toMatchObject({ tokensUsed: 50, costUsd: 0.002, provider: 'openai', model: 'gpt-x' });
        expect(completed[1]).toMatchObject({ tokensUsed: 300, costUsd: 0.01, provider: 'bedrock', model: 'nova' });
        expect(out.results.every((r) => r.spendRecorded === true)).toBe(true);
      });

      it('should say nothing about a provider when the agent spent nothing and named none', async () => {
        const { deps, events } = fakeDeps();
        const handler = defineAgent({ agentId: 'a1', deps, processItem: async (item, ctx) => ({ outputKey: await ctx.workspace.put(`outputs/${item.key}`, 'x') }) });
        await handler(input(), context);
        const metrics = events.find((e) => e.event === 'ItemCompleted')!.payload.metrics;
        expect(metrics).toMatchObject({ tokensUsed: 0, costUsd: 0 });
        expect(metrics).not.toHaveProperty('provider');
      });
    });

    it('should run a step without items once, on the @step pseudo item, and answer health checks', async () => {
      const { deps } = fakeDeps();
      const seen: string[] = [];
      const handler = defineAgent({ agentId: 'a1', deps, processItem: async (item, ctx) => (seen.push(item.key), { outputKey: await ctx.workspace.put('outputs/report.md', '#') }) });
      const out = await handler(input({ items: [] }), context);
      expect(seen).toEqual(['@step']);
      expect(out.results[0].outputKey).toBe('runs/r1/outputs/report.md');
      expect(await handler({ agentplaneHealthCheck: true }, context)).toMatchObject({ healthy: true, agentId: 'a1' });
    });

    it('should refuse a call while the circuit is open only when the engine has another candidate, and claim the probe after the cool-down', async () => {
      const open = { state: 'open' as const, consecutiveFailures: 5, openedAt: 1_000, version: 3 };
      const reads: Array<boolean | undefined> = [];
      let probeWon = true;
      const claims: string[] = [];
      const { deps, events } = fakeDeps({
        agent: async (id, options) => {
          reads.push(options?.fresh);
          return { id, circuit: open };
        },
        claimProbe: async (id) => {
          claims.push(id);
          return probeWon;
        },
      });
      let now = 1_000 + 10_000;
      deps.clock = () => now;
      const handler = defineAgent({
        agentId: 'a1',
        deps,
        processItem: async (item, ctx) => {
          await ctx.workspace.putJson(`outputs/${item.key}.json`, {});
          return undefined;
        },
      });

      // Within the cool-down: refused before any item event, on a fresh read of the circuit.
      await expect(handler(input({ circuitBreaker: true }), context)).rejects.toMatchObject({
        name: 'Agentplane.CircuitOpen',
        message: expect.stringMatching(/^Agent 'a1': circuit open after 5 consecutive failures until /) as unknown,
      });
      expect(reads).toEqual([true]);
      expect(events).toEqual([]);
      // Without circuitBreaker (nowhere else to go) the call goes through.
      expect((await handler(input(), context)).results.map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
      expect(claims).toEqual([]);

      // After the cool-down: the one invocation that claims the probe runs; the others are refused.
      now = 1_000 + DEFAULT_CIRCUIT_CONFIG.coolDownMs + 1;
      expect((await handler(input({ circuitBreaker: true, runId: 'r2', workspace: { bucket: 'b', prefix: 'runs/r2/' } }), context)).results).toHaveLength(2);
      probeWon = false;
      await expect(handler(input({ circuitBreaker: true }), context)).rejects.toMatchObject({ name: 'Agentplane.CircuitOpen', message: expect.stringMatching(/probe call is taken/) as unknown });
      expect(claims).toEqual(['a1', 'a1']);
    });

    it('should write the circuit only when an outcome changes it', async () => {
      const ok = fakeDeps();
      await defineAgent({ agentId: 'a1', deps: ok.deps, processItem: async (_i, ctx) => ({ outputKey: await ctx.workspace.put('outputs/x', 'x') }) })(input(), context);
      expect(ok.circuitWrites).toEqual([]);
      const bad = fakeDeps();
      await defineAgent({ agentId: 'a1', deps: bad.deps, processItem: async () => { throw new Error('bug'); } })(input(), context);
      expect(bad.circuitWrites).toEqual([{ agentId: 'a1', state: expect.objectContaining({ state: 'closed', consecutiveFailures: 2, version: 1 }) as unknown }]);
    });
  });
});

describe('Function: foldOutcomes', () => {
  it('should apply outcomes in order and move the version by one', () => {
    const fold = foldOutcomes([{ ok: false, latencyMs: 1 }, { ok: true, latencyMs: 1 }, { ok: false, latencyMs: 1 }], 0, DEFAULT_CIRCUIT_CONFIG);
    expect(fold(initialCircuit())).toEqual({ changed: true, state: { state: 'closed', consecutiveFailures: 1, version: 1 } });
  });
});

describe('Class: WorkspaceClient', () => {
  const ws = () => new WorkspaceClient(memoryStore(), 'b', 'r1');
  it('should resolve relative and full keys inside the run prefix', () => {
    expect(ws().resolve('outputs/a.json')).toBe('runs/r1/outputs/a.json');
    expect(ws().resolve('runs/r1/state/x')).toBe('runs/r1/state/x');
  });
  it.each(['runs/r2/x', '../r2/x', 'outputs/../../r2/x', '/etc/passwd', 'runs/r1', 'outputs/', '', 'a\\b', 'runs/r10/x'])('should refuse %j', (key) => {
    expect(() => ws().resolve(key)).toThrow(/Workspace violation/);
  });
});

describe('Function: classifyError', () => {
  it('should tell retryable from fatal', () => {
    expect(classifyError(Object.assign(new Error('x'), { name: 'ThrottlingException' }))).toBe('retryable');
    expect(classifyError(Object.assign(new Error('x'), { $metadata: { httpStatusCode: 503 } }))).toBe('retryable');
    expect(classifyError(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe('retryable');
    expect(classifyError(new RetryableAgentError('x'))).toBe('retryable');
    expect(classifyError(Object.assign(new Error('x'), { name: 'Agentplane.AgentBusy' }))).toBe('busy');
    expect(classifyError(new TypeError('bug'))).toBe('fatal');
  });
});

describe('Function: parseAgentInput / nextRetry', () => {
  it('should default attempt and epoch and compute the retry schedule', () => {
    expect(parseAgentInput(input())).toMatchObject({ attempt: 1, epoch: 0, parameters: {} });
    expect(nextRetry(1, { maxAttempts: 2, intervalSeconds: 2, backoffRate: 3 })).toEqual({ attempt: 2, nextDelayMs: 2000 });
    expect(nextRetry(2, { maxAttempts: 2, intervalSeconds: 2, backoffRate: 3 })).toEqual({ attempt: 3, nextDelayMs: 6000 });
    expect(nextRetry(3, { maxAttempts: 2, intervalSeconds: 2, backoffRate: 3 })).toBeNull();
  });
});
