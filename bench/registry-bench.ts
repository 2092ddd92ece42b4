import type { Capability } from '../lambdas/core/registry/agent';
import { percentileRank } from '../lambdas/core/registry/histogram';
import { type AgentView, type SelectionRequest, selectAgents } from '../lambdas/core/registry/selection';
import { seededRandom } from './stats';

/**
 * Registry selection latency, pure and in memory, with 10,000 registered agents. The DynamoDB-backed
 * discovery figure (skill-index Query plus metrics reads) is measured separately on the local cloud.
 *
 * Metrics `registry.select.<scenario>.p50|p99` in ms, over these scenarios:
 * - indexed: the candidates the skill index returns for one skill (about 1.5 in 100 agents), which is
 *   what discovery and run-time selection pass to selectAgents;
 * - scan: all 10,000 agents, most rejected for lacking the skill (the cost of selection itself);
 * - crowded: 10,000 agents that all serve the skill, checked against 200 items (ranking worst case).
 */

export interface BenchResult {
  name: string;
  value: number;
  unit: string;
}

export interface RegistryBenchOptions {
  agents?: number;
  iterations?: number;
}

const SKILLS = 100;


function makeAgents(count: number, skillOf: (i: number, rnd: () => number) => string): AgentView[] {
  const rnd = seededRandom(42);
  return Array.from({ length: count }, (_, i) => {
    const skill = skillOf(i, rnd);
    const capabilities: Capability[] = [
      {
        skill,
        input: rnd() < 0.8 ? 'source' : '*',
        output: 'analysis',
        priority: Math.floor(rnd() * 101),
        ...(rnd() < 0.3 ? { constraints: { maxFileSizeBytes: 1 + Math.floor(rnd() * 4_000_000) } } : {}),
        ...(rnd() < 0.1 ? { constraints: { fileExtensions: ['.cbl', '.cob'] } } : {}),
      },
    ];
    if (rnd() < 0.5) capabilities.push({ skill: `skill-${Math.floor(rnd() * SKILLS)}`, priority: 50 });
    const invocations = Math.floor(rnd() * 1000);
    const failures = Math.floor(invocations * rnd() * 0.2);
    const healthRoll = rnd();
    return {
      id: `agent-${String(i).padStart(5, '0')}`,
      capabilities,
      recent: { invocations, successes: invocations - failures, failures, p50Ms: 500 + rnd() * 5000, p95Ms: 1000 + rnd() * 30_000 },
      health:
        healthRoll < 0.05
          ? { status: 'Unhealthy', reason: 'error rate 60%' }
          : healthRoll < 0.15
            ? { status: 'Degraded', reason: 'error rate 12%' }
            : { status: 'Healthy' },
    } satisfies AgentView;
  });
}

function makeItems(count: number): SelectionRequest['items'] {
  const rnd = seededRandom(7);
  return Array.from({ length: count }, (_, i) => ({ key: `inputs/PROG${i}.cbl`, size: Math.floor(rnd() * 2_000_000) }));
}

function measure(iterations: number, run: () => unknown): { p50: number; p99: number } {
  const warmup = Math.max(3, Math.floor(iterations / 10));
  for (let i = 0; i < warmup; i++) run();
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = performance.now();
    run();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  const at = (p: number) => samples[percentileRank(p, samples.length) - 1];
  return { p50: at(50), p99: at(99) };
}

const round3 = (ms: number) => Math.round(ms * 1000) / 1000;

export async function runRegistryBench(options: RegistryBenchOptions = {}): Promise<BenchResult[]> {
  const count = options.agents ?? 10_000;
  const iterations = options.iterations ?? 200;
  const now = Date.now();
  const request: SelectionRequest = {
    requiredSkills: ['skill-7'],
    inputType: 'source',
    outputType: 'analysis',
    items: makeItems(50),
  };

  const registry = makeAgents(count, (i) => `skill-${i % SKILLS}`);
  const indexed = registry.filter((agent) => agent.capabilities.some((c) => c.skill === 'skill-7'));
  const crowded = makeAgents(count, () => 'skill-7');
  const crowdedRequest = { ...request, items: makeItems(200) };

  const results: BenchResult[] = [];
  const record = (scenario: string, stats: { p50: number; p99: number }) => {
    results.push({ name: `registry.select.${scenario}.p50`, value: round3(stats.p50), unit: 'ms' });
    results.push({ name: `registry.select.${scenario}.p99`, value: round3(stats.p99), unit: 'ms' });
  };

  record('indexed', measure(iterations, () => selectAgents(request, indexed, now)));
  await Promise.resolve();
  record('scan', measure(Math.max(20, iterations / 4), () => selectAgents(request, registry, now)));
  await Promise.resolve();
  record('crowded', measure(Math.max(20, iterations / 4), () => selectAgents(crowdedRequest, crowded, now)));
  return results;
}
