import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Capability } from '../../../lambdas/core/registry/agent';
import { initialCircuit, recordFailure } from '../../../lambdas/core/registry/circuit';
import {
  type AgentView,
  NoCandidateError,
  type SelectionRequest,
  explainNoCandidate,
  nextCandidate,
  selectAgents,
  selectOrThrow,
} from '../../../lambdas/core/registry/selection';

const NOW = 1_000_000;

function agent(id: string, capabilities: Capability[], extra: Partial<AgentView> = {}): AgentView {
  return { id, capabilities, ...extra };
}

const analysis = (extra: Partial<Capability> = {}): Capability => ({
  skill: 'cobol-analysis',
  input: 'cobol-source',
  output: 'cobol-analysis',
  ...extra,
});

const request: SelectionRequest = { requiredSkills: ['cobol-analysis'], inputType: 'cobol-source', outputType: 'cobol-analysis' };

function openCircuit(at: number) {
  let circuit = initialCircuit();
  for (let i = 0; i < 5; i++) circuit = recordFailure(circuit, at).state;
  return circuit;
}

describe('Function: selectAgents', () => {
  it('should keep agents with the skill and reject the others with a reason', () => {
    const result = selectAgents(request, [agent('a', [analysis()]), agent('b', [{ skill: 'report-writing' }])], NOW);
    expect(result.matches.map((m) => m.agentId)).toEqual(['a']);
    expect(result.matches[0]).toMatchObject({ matched: ['skill:cobol-analysis', 'input:cobol-source', 'output:cobol-analysis'], health: 'Healthy', probe: false });
    expect(result.rejected).toEqual([{ agentId: 'b', reasons: ["no capability with skill 'cobol-analysis'"] }]);
  });

  it('should filter by input and output types, a wildcard accepting any', () => {
    const agents = [
      agent('exact', [analysis()]),
      agent('wild', [{ skill: 'cobol-analysis' }]),
      agent('wrong-in', [analysis({ input: 'pl1-source' })]),
      agent('wrong-out', [analysis({ output: 'java-source' })]),
    ];
    const result = selectAgents(request, agents, NOW);
    expect(result.matches.map((m) => m.agentId)).toEqual(['exact', 'wild']);
    expect(result.rejected.find((r) => r.agentId === 'wrong-in')!.reasons[0]).toMatch(/input type 'pl1-source' is not the requested 'cobol-source'/);
    expect(result.rejected.find((r) => r.agentId === 'wrong-out')!.reasons[0]).toMatch(/output type 'java-source'/);
    expect(result.matches[1].reasons).toContain('accepts any input or output type rather than the requested one');
  });

  it('should check maxFileSizeBytes and fileExtensions against the items', () => {
    const items = [
      { key: 'inputs/A.cbl', size: 1000 },
      { key: 'inputs/B.CBL', size: 5_000_000 },
      { key: 'inputs/notes.txt', size: 10 },
    ];
    const agents = [
      agent('small', [analysis({ constraints: { maxFileSizeBytes: 1_048_576 } })]),
      agent('cobol-only', [analysis({ constraints: { fileExtensions: ['cbl', '.cob'] } })]),
      agent('any', [analysis()]),
    ];
    const result = selectAgents({ ...request, items }, agents, NOW);
    expect(result.matches.map((m) => m.agentId)).toEqual(['any']);
    const reasons = Object.fromEntries(result.rejected.map((r) => [r.agentId, r.reasons.join(' | ')]));
    expect(reasons.small).toMatch(/1 of 3 items exceed maxFileSizeBytes 1048576 \(largest: 'inputs\/B.CBL', 5000000 bytes\)/);
    expect(reasons['cobol-only']).toMatch(/1 of 3 items are not \.cbl\/\.cob files \(e\.g\. 'inputs\/notes\.txt'\)/);
  });

  it('should honour the step constraints as requirements', () => {
    const agents = [
      agent('small', [analysis({ constraints: { maxFileSizeBytes: 1000 } })]),
      agent('large', [analysis({ constraints: { maxFileSizeBytes: 10_000_000 } })]),
    ];
    const result = selectAgents({ ...request, constraints: { maxFileSizeBytes: 2_000_000 } }, agents, NOW);
    expect(result.matches.map((m) => m.agentId)).toEqual(['large']);
    expect(result.rejected[0].reasons[0]).toMatch(/accepts files up to 1000 bytes, the step needs 2000000/);
  });

  it('should drop Unhealthy and disabled agents and those whose circuit is open', () => {
    const agents = [
      agent('sick', [analysis()], { health: { status: 'Unhealthy', reason: 'error rate 80%' } }),
      agent('off', [analysis()], { status: 'disabled' }),
      agent('tripped', [analysis()], { circuit: openCircuit(NOW - 1000) }),
      agent('fine', [analysis()]),
    ];
    const result = selectAgents(request, agents, NOW);
    expect(result.matches.map((m) => m.agentId)).toEqual(['fine']);
    const reasons = Object.fromEntries(result.rejected.map((r) => [r.agentId, r.reasons.join(' | ')]));
    expect(reasons).toEqual({
      sick: 'Unhealthy: error rate 80%',
      off: 'agent is disabled',
      tripped: expect.stringMatching(/^circuit open after 5 consecutive failures until /) as unknown,
    });
  });

  it('should offer an agent whose cool-down elapsed as a probe ranked behind its healthy peer', () => {
    const agents = [
      agent('recovering', [analysis({ priority: 90 })], { circuit: openCircuit(NOW - 60_000), health: { status: 'Degraded', reason: 'circuit half-open' } }),
      agent('steady', [analysis()]),
    ];
    const result = selectAgents(request, agents, NOW);
    expect(result.matches.map((m) => [m.agentId, m.probe])).toEqual([['steady', false], ['recovering', true]]);
    expect(result.matches[1].reasons).toContain('circuit cool-down elapsed: eligible for one probe call');
  });

  it('should rank by priority, then success rate, then latency', () => {
    const stats = (invocations: number, failures: number, p95Ms: number) => ({ invocations, successes: invocations - failures, failures, p95Ms });
    const agents = [
      agent('low-priority', [analysis({ priority: 10 })], { recent: stats(100, 0, 1000) }),
      agent('flaky', [analysis({ priority: 60 })], { recent: stats(100, 40, 1000) }),
      agent('slow', [analysis({ priority: 60 })], { recent: stats(100, 0, 120_000) }),
      agent('best', [analysis({ priority: 60 })], { recent: stats(100, 0, 1000) }),
    ];
    const result = selectAgents(request, agents, NOW);
    expect(result.matches.map((m) => m.agentId)).toEqual(['best', 'slow', 'flaky', 'low-priority']);
    expect(result.matches[0].reasons).toEqual([
      'serves cobol-analysis (cobol-source → cobol-analysis) at priority 60',
      'success rate 100% over 100 recent invocations',
      'p95 latency 1000 ms',
    ]);
    for (const match of result.matches) expect(match.score).toBeGreaterThan(0);
    for (const match of result.matches) expect(match.score).toBeLessThanOrEqual(1);
  });

  it('should prefer the Healthy agent over an equal Degraded one', () => {
    const agents = [agent('a', [analysis()], { health: { status: 'Degraded', reason: 'error rate 15%' } }), agent('b', [analysis()])];
    const result = selectAgents(request, agents, NOW);
    expect(result.matches.map((m) => m.agentId)).toEqual(['b', 'a']);
    expect(result.matches[1].reasons).toContain('Degraded: error rate 15%');
  });

  it('should fall back to all-time history when the recent window is empty', () => {
    const result = selectAgents(request, [agent('a', [analysis()], { recent: { invocations: 0, successes: 0, failures: 0 }, allTime: { invocations: 10, successes: 9, failures: 1 } })], NOW);
    expect(result.matches[0].reasons).toContain('success rate 90% over 10 all-time invocations');
  });

  it('should require every requested skill', () => {
    const agents = [agent('both', [analysis(), { skill: 'dependency-mapping' }]), agent('one', [analysis()])];
    const result = selectAgents({ requiredSkills: ['cobol-analysis', 'dependency-mapping'] }, agents, NOW);
    expect(result.matches.map((m) => m.agentId)).toEqual(['both']);
    expect(result.rejected).toEqual([{ agentId: 'one', reasons: ["no capability with skill 'dependency-mapping'"] }]);
  });

  it('should use the best fitting capability of an agent', () => {
    const agents = [agent('a', [analysis({ priority: 90, constraints: { maxFileSizeBytes: 10 } }), analysis({ input: '*', priority: 40 })])];
    const result = selectAgents({ ...request, items: [{ key: 'x.cbl', size: 100 }] }, agents, NOW);
    expect(result.matches[0].reasons[0]).toBe('serves cobol-analysis (* → cobol-analysis) at priority 40');
  });

  it('should be deterministic: same answer whatever the order of agents, ties broken by id', () => {
    const arbAgent = fc.record({
      id: fc.stringMatching(/^[a-z]{1,6}$/),
      priority: fc.constantFrom(10, 50, 90),
      failures: fc.constantFrom(0, 1, 50),
      healthy: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.uniqueArray(arbAgent, { selector: (a) => a.id, maxLength: 30 }), fc.infiniteStream(fc.double({ min: 0, max: 1, noNaN: true })), (specs, noise) => {
        const agents = specs.map((s) =>
          agent(s.id, [analysis({ priority: s.priority })], {
            recent: { invocations: 100, successes: 100 - s.failures, failures: s.failures },
            ...(s.healthy ? {} : { health: { status: 'Unhealthy' as const, reason: 'x' } }),
          }),
        );
        const shuffled = agents.map((a) => [noise.next().value, a] as const).sort((x, y) => x[0] - y[0]).map(([, a]) => a);
        const first = selectAgents(request, agents, NOW);
        expect(selectAgents(request, shuffled, NOW)).toEqual(first);
        for (let i = 1; i < first.matches.length; i++) {
          const [prev, cur] = [first.matches[i - 1], first.matches[i]];
          expect(prev.score > cur.score || (prev.score === cur.score && prev.agentId < cur.agentId)).toBe(true);
        }
        expect(first.matches.length + first.rejected.length).toBe(agents.length);
        for (const entry of [...first.matches, ...first.rejected]) expect(entry.reasons.length).toBeGreaterThan(0);
      }),
      { numRuns: 100 },
    );
  });
});

describe('Function: explainNoCandidate', () => {
  it('should name the capability and why each agent with the skill was rejected', () => {
    const agents = [
      agent('sick', [analysis()], { health: { status: 'Unhealthy', reason: 'health check failed: timeout' } }),
      agent('other', [{ skill: 'report-writing' }]),
    ];
    const result = selectAgents(request, agents, NOW);
    expect(explainNoCandidate(request, result)).toBe(
      "No agent can serve capability skill 'cobol-analysis', input 'cobol-source', output 'cobol-analysis'. " +
        "agent 'sick' rejected: Unhealthy: health check failed: timeout. 1 other agent lacks the skill.",
    );
  });

  it('should say when no agent has the skill at all', () => {
    expect(explainNoCandidate(request, { rejected: [] })).toMatch(/no agent is registered for it$/);
    const result = selectAgents(request, [agent('x', [{ skill: 'report-writing' }])], NOW);
    expect(explainNoCandidate(request, result)).toMatch(/the one agent considered lacks the skill$/);
  });

  it('should list at most twenty agents by name', () => {
    const agents = Array.from({ length: 25 }, (_, i) => agent(`a${String(i).padStart(2, '0')}`, [analysis()], { status: 'disabled' }));
    const message = explainNoCandidate(request, selectAgents(request, agents, NOW));
    expect(message.match(/rejected: agent is disabled/g)).toHaveLength(20);
    expect(message).toContain('and 5 more agents rejected');
  });
});

describe('Function: selectOrThrow', () => {
  it('should throw a NoCandidateError carrying the rejections', () => {
    expect(() => selectOrThrow(request, [agent('x', [{ skill: 'report-writing' }])], NOW)).toThrow(NoCandidateError);
    expect(selectOrThrow(request, [agent('a', [analysis()])], NOW).map((m) => m.agentId)).toEqual(['a']);
  });
});

describe('Function: nextCandidate', () => {
  it('should fall back to the best untried agent, a probe-only agent last', () => {
    const agents = [
      agent('first', [analysis({ priority: 90 })]),
      agent('probe', [analysis({ priority: 100 })], { circuit: openCircuit(NOW - 60_000) }),
      agent('second', [analysis({ priority: 10 })]),
    ];
    const { matches } = selectAgents(request, agents, NOW);
    expect(nextCandidate(matches, [])!.agentId).toBe('first');
    expect(nextCandidate(matches, ['first'])!.agentId).toBe('second');
    expect(nextCandidate(matches, ['first', 'second'])!.agentId).toBe('probe');
    expect(nextCandidate(matches, ['first', 'second', 'probe'])).toBeUndefined();
  });
});
