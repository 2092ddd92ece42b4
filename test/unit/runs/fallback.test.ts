import { describe, expect, it } from 'vitest';
import { routeAfterInvocation, type AgentRoute, type CandidateChoice, type FallbackDeps, type RouteRequest } from '../../../lambdas/core/runs/fallback';
import { causeMessage, handleRelease } from '../../../lambdas/engine-item-gate/release';

const route = (over: Partial<AgentRoute> = {}): AgentRoute => ({ agentId: 'a', functionArn: 'arn:a', epoch: 0, tried: [], circuitBreaker: true, ...over });
const candidate = (agentId: string, alternatives: number): CandidateChoice => ({
  agentId,
  functionArn: `arn:${agentId}`,
  score: 0.7,
  alternatives,
  candidates: [{ agentId, score: 0.7, reasons: ['healthy'] }],
});

function fakeDeps(candidates: CandidateChoice[]) {
  const asked: string[][] = [];
  const emitted: unknown[] = [];
  const moved: Array<[string, string, number]> = [];
  const deps: FallbackDeps = {
    async choose(_capability, _items, exclude) {
      asked.push([...exclude]);
      return candidates.find((c) => !exclude.includes(c.agentId));
    },
    async emitSelected(_runId, events) {
      emitted.push(...events);
    },
    async countMoves(_runId, stepId, agentId, items) {
      moved.push([stepId, agentId, items]);
    },
  };
  return { deps, asked, emitted, moved };
}

const request = (over: Partial<RouteRequest> = {}): RouteRequest => ({
  runId: 'r1',
  stepId: 's',
  capability: { skill: 'k' },
  items: [{ key: 'x', size: 3 }, { key: 'y', size: 4 }],
  route: route(),
  settled: [],
  maxPasses: 3,
  ...over,
});

const ok = (key: string) => ({ item: { key }, status: 'succeeded' as const, outputKey: `o/${key}`, metrics: { tokensUsed: 2 } });
const retryable = (key: string) => ({ item: { key }, status: 'failed' as const, error: { type: 'Agentplane.Retryable', message: 'busy model' }, metrics: { retryCount: 1 } });

describe('Function: routeAfterInvocation', () => {
  it('should settle a pass with no failure another agent could fix without asking the registry', async () => {
    const { deps, asked } = fakeDeps([candidate('b', 0)]);
    const decision = await routeAfterInvocation(request({ results: [ok('x'), { ...retryable('y'), error: { type: 'Agentplane.Fatal', message: 'bad COBOL' } }] }), deps);
    expect(decision).toMatchObject({ kind: 'settled', output: { results: [ok('x'), expect.objectContaining({ status: 'failed' })] } });
    expect(asked).toEqual([]);
  });

  it('should move the retryable failures to the best untried candidate, respecting its breaker only if another remains', async () => {
    const { deps, asked, emitted, moved } = fakeDeps([candidate('b', 1), candidate('c', 0)]);
    const decision = await routeAfterInvocation(request({ results: [ok('x'), retryable('y')] }), deps);
    expect(asked).toEqual([['a']]);
    expect(decision).toEqual({
      kind: 'fallback',
      final: [ok('x')],
      pending: [{ key: 'y', size: 4 }],
      route: { agentId: 'b', functionArn: 'arn:b', epoch: 1, tried: ['a'], circuitBreaker: true },
      settled: [ok('x')],
    });
    expect(emitted).toEqual([
      { stepId: 's', agentId: 'b', score: 0.7, candidates: [{ agentId: 'b', score: 0.7, reasons: ['healthy'] }], fallbackFrom: 'a', item: 'y', reason: 'Agentplane.Retryable after 2 attempts: busy model' },
    ]);
    expect(moved).toEqual([['s', 'b', 1]]);
    // The last pass never respects a breaker: nothing would be left to fall back to.
    const last = await routeAfterInvocation(request({ results: [retryable('y')], route: route({ epoch: 0 }), maxPasses: 2 }), deps);
    expect(last).toMatchObject({ kind: 'fallback', route: { agentId: 'b', circuitBreaker: false } });
  });

  it('should merge earlier passes into the output when the batch ends, and give up at the pass limit', async () => {
    const { deps, asked } = fakeDeps([candidate('c', 0)]);
    const decision = await routeAfterInvocation(request({ results: [retryable('y')], items: [{ key: 'y' }], settled: [ok('x')], route: route({ agentId: 'b', epoch: 2, tried: ['a'] }) }), deps);
    expect(asked).toEqual([]);
    expect(decision).toEqual({ kind: 'settled', final: [retryable('y')], output: { results: [ok('x'), retryable('y')] } });
  });

  it('should fail every item of a batch that threw, in the shape a failed batch has, when nothing is left', async () => {
    const { deps } = fakeDeps([]);
    const decision = await routeAfterInvocation(request({ error: { name: 'States.Timeout', cause: 'took too long' } }), deps);
    expect(decision.kind).toBe('settled');
    if (decision.kind !== 'settled') return;
    expect(decision.output).toEqual({ failed: true, items: request().items, error: { Error: 'States.Timeout', Cause: 'took too long' } });
    expect(decision.final.map((r) => [r.item.key, r.status, r.error?.type])).toEqual([
      ['x', 'failed', 'States.Timeout'],
      ['y', 'failed', 'States.Timeout'],
    ]);
  });

  it('should call the same agent again, breaker off, when its circuit refused the call and no one else can take it', async () => {
    const { deps, emitted } = fakeDeps([]);
    const decision = await routeAfterInvocation(request({ error: { name: 'Agentplane.CircuitOpen', cause: "Agent 'a': circuit open" } }), deps);
    expect(decision).toMatchObject({ kind: 'fallback', route: { agentId: 'a', epoch: 1, tried: [], circuitBreaker: false }, pending: request().items });
    expect(emitted).toEqual([]);
  });
});

describe('Function: handleRelease', () => {
  it('should release and answer nothing for a machine compiled before fallback', async () => {
    const released: unknown[] = [];
    const answer = await handleRelease({ action: 'release', runId: 'r', stepId: 's', items: [], leaseId: 'l', error: 'Agentplane.Fatal' }, {
      release: async (r) => void released.push(r),
      fallback: fakeDeps([]).deps,
      log: { warn() {} },
    });
    expect(answer).toEqual({ outcome: 'released' });
    expect(released).toEqual([{ runId: 'r', stepId: 's', leaseId: 'l', error: 'Agentplane.Fatal', items: 1 }]);
  });

  it('should settle the items as they are, and still give the slot back, when the fallback cannot be decided', async () => {
    const released: unknown[] = [];
    const warnings: string[] = [];
    const registryDown: FallbackDeps = {
      choose: async () => {
        throw new Error('registry unreachable');
      },
      emitSelected: async () => {},
      countMoves: async () => {},
    };
    const batch = { agent: route(), runId: 'r', stepId: 's', settled: [ok('x')] };
    const answer = await handleRelease(
      { action: 'release', runId: 'r', stepId: 's', items: [{ key: 'y' }], leaseId: 'l', results: [retryable('y')], fallback: { capability: { skill: 'k' }, maxPasses: 3, batch } },
      { release: async (r) => void released.push(r), fallback: registryDown, log: { warn: (m) => void warnings.push(m) } },
    );
    expect(answer).toEqual({ results: [ok('x'), retryable('y')] });
    expect(released).toEqual([expect.objectContaining({ leaseId: 'l', items: 1, results: [retryable('y')] })]);
    expect(warnings).toEqual(['fallback decision failed; the items settle as they are']);
  });

  it('should keep only the message of a Lambda error cause', () => {
    expect(causeMessage(JSON.stringify({ errorType: 'X', errorMessage: 'the message', stackTrace: ['at secret.js:1'] }))).toBe('the message');
    expect(causeMessage('plain')).toBe('plain');
    expect(causeMessage('')).toBeUndefined();
  });
});
