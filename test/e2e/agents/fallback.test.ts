/**
 * Two agents for one skill, through the public API only: items move off the failing one (its retries ran out,
 * then its circuit opened) to the other within the running step, the events say why, health follows
 * (Degraded, then Unhealthy), new steps route to the other agent, and after the cool-down the failing agent
 * is tried again. Both ids are registrations of the diagnostics function; its `onlyOnAgent` knob makes one fail.
 */
import { describe, expect, it } from 'vitest';
import { http } from '../../support/target';
import type { EventsPageBody, HealthBody, RunBody, RunCreatedBody } from '../../support/api';
import { registerWorkflow, unique, waitFor } from '../runs/support';

type RunEvent = EventsPageBody['events'][number];

async function register(id: string, skill: string, priority: number, functionArn: string) {
  const res = await http('POST', '/agents', {
    body: { id, name: id, version: '1.0.0', description: 'fallback e2e', functionArn, capabilities: [{ skill, priority }], tags: ['e2e'] },
  });
  expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
}

/**
 * Two registrations of the diagnostics function for a new skill: `flaky-…` ranks first while healthy (priority),
 * so runs start on it; the step's `onlyOnAgent` (parameter `on`) picks which one fails the `failing` items.
 */
async function twoAgents(name: string) {
  const builtIn = (await http<{ functionArn?: string; agent?: { functionArn: string } }>('GET', '/agents/diagnostics.delay')).body;
  const functionArn: string = (builtIn.functionArn ?? builtIn.agent?.functionArn)!;
  const suffix = unique(name).slice(name.length + 1);
  const agents = { skill: `${name}-${suffix}`, flaky: `flaky-${suffix}`, steady: `steady-${suffix}` };
  await register(agents.flaky, agents.skill, 100, functionArn);
  await register(agents.steady, agents.skill, 0, functionArn);
  return agents;
}

async function fallbackWorkflow(stepId: string, skill: string, step: Record<string, unknown>) {
  return registerWorkflow({
    id: unique(`fallback-${stepId}`),
    parameters: { failing: { type: 'string' }, on: { type: 'string', default: '^flaky-' } },
    steps: [
      {
        id: stepId,
        capability: { skill },
        forEach: 'inputs',
        retry: { maxAttempts: 0 },
        config: { delayMs: 1, retryablePattern: '${params.failing}', onlyOnAgent: '${params.on}' },
        ...step,
      },
    ],
  });
}

async function runToEnd(workflowId: string, inputs: number, parameters: { failing: string; on?: string }): Promise<{ run: RunBody; events: RunEvent[] }> {
  const created = await http<RunCreatedBody>('POST', '/runs', {
    body: { workflowId, parameters, inputs: Array.from({ length: inputs }, (_, i) => ({ key: `i${String(i).padStart(2, '0')}.txt`, content: 'x' })) },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(202);
  const runId: string = created.body.runId;
  const run = await waitFor('the run to end', async () => {
    const res = await http<RunBody>('GET', `/runs/${runId}`);
    return ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(res.body.status) ? res.body : undefined;
  }, 120_000);
  const events = (await http<EventsPageBody>('GET', `/runs/${runId}/events?afterSeq=0&limit=1000`)).body.events;
  return { run, events };
}

const health = async (id: string) => (await http<HealthBody>('GET', `/agents/${id}/health`)).body;
const selections = (events: RunEvent[]) => events.filter((e) => e.event === 'AgentSelected');
const fallbacks = (events: RunEvent[]) => selections(events).filter((e) => e.payload.fallbackFrom !== undefined).map((e) => e.payload);
const stepAgent = (events: RunEvent[]) => selections(events).find((e) => e.payload.fallbackFrom === undefined)?.payload;
/** The agent each item last started on. */
function lastAgents(events: RunEvent[]): Map<string, string> {
  const agents = new Map<string, string>();
  for (const e of events) if (e.event === 'ItemStarted') agents.set(e.payload.item, e.payload.agentId!);
  return agents;
}

describe('Registry: per-item fallback between two agents for one skill', () => {
  it('should move failing items to the other agent, open the circuit, route new steps away, and try the agent again after the cool-down', async () => {
    const { skill, flaky, steady } = await twoAgents('translate');
    // One item at a time: the order of failures, and so the circuit's course, is deterministic.
    const workflow = await fallbackWorkflow('translate', skill, { maxConcurrency: 1 });

    // 1. One item fails on the flaky agent (no retries left): it moves to the steady one; 1 error in 10 is Degraded.
    const first = await runToEnd(workflow.id, 10, { failing: 'i00\\.txt$' });
    expect(first.run.status).toBe('SUCCEEDED');
    expect(stepAgent(first.events)).toMatchObject({ stepId: 'translate', agentId: flaky });
    const moved = fallbacks(first.events);
    expect(moved).toEqual([
      expect.objectContaining({ stepId: 'translate', agentId: steady, fallbackFrom: flaky, item: expect.stringMatching(/inputs\/i00\.txt$/) as unknown, reason: expect.stringMatching(/^Agentplane\.Retryable after 1 attempt: item .* matches retryablePattern/) as unknown }),
    ]);
    expect(moved[0].candidates.map((c) => c.agentId)).toEqual([flaky, steady]);
    const agents = lastAgents(first.events);
    expect([...agents.entries()].filter(([, agent]) => agent === steady).map(([item]) => item)).toEqual([moved[0].item]);
    const completed = first.events.find((e) => e.event === 'StepCompleted')!.payload.summary;
    expect(completed).toMatchObject({ totalItems: 10, successCount: 10, failureCount: 0 });
    expect(first.run.steps.translate).toMatchObject({ agentId: flaky, succeeded: 10, failed: 0, fallbacks: { [steady]: 1 } });
    expect(await health(flaky)).toMatchObject({ status: 'Degraded', reason: expect.stringMatching(/error rate 10%/) as unknown });

    // 2. Every item fails on it: five in a row open its circuit, and the next items are refused at once.
    const second = await runToEnd(workflow.id, 8, { failing: '.' });
    expect(second.run.status).toBe('SUCCEEDED');
    expect(stepAgent(second.events)).toMatchObject({ agentId: flaky });
    const secondMoves = fallbacks(second.events);
    expect(secondMoves).toHaveLength(8);
    expect(secondMoves.every((m) => m.fallbackFrom === flaky && m.agentId === steady)).toBe(true);
    // Five failures in a row open the circuit (the default threshold); the runtime reads the circuit afresh.
    expect(secondMoves.slice(0, 5).every((m) => /^Agentplane\.Retryable after 1 attempt/.test(m.reason!))).toBe(true);
    expect(secondMoves.slice(5).every((m) => /^Agentplane\.CircuitOpen: Agent 'flaky-.*': circuit open after 5 consecutive failures until /.test(m.reason!))).toBe(true);
    expect([...lastAgents(second.events).values()].every((agent) => agent === steady)).toBe(true);
    expect(second.run.steps.translate.fallbacks).toEqual({ [steady]: 8 });
    const unhealthy = await health(flaky);
    expect(unhealthy).toMatchObject({ status: 'Unhealthy', circuit: { state: 'open' } });

    // 3. A new step does not start on an Unhealthy agent.
    const third = await runToEnd(workflow.id, 2, { failing: '^$' });
    expect(third.run.status).toBe('SUCCEEDED');
    const chosen = stepAgent(third.events);
    expect(chosen).toMatchObject({ agentId: steady });
    expect(chosen!.candidates.map((c) => c.agentId)).toEqual([steady]);
    expect(fallbacks(third.events)).toEqual([]);
    expect(third.run.steps.translate).not.toHaveProperty('fallbacks');

    // 4. After the cool-down it is tried again: the steady agent fails an item, which falls back to the flaky
    //    one (eligible again); its success closes the circuit.
    const retryAt = Date.parse(unhealthy.circuit.retryAt!);
    await waitFor('the cool-down to end', async () => (Date.now() >= retryAt && (await health(flaky)).status !== 'Unhealthy' ? true : undefined), Math.max(0, retryAt - Date.now()) + 30_000, 500);
    const fourth = await runToEnd(workflow.id, 3, { failing: 'i01\\.txt$', on: '^steady-' });
    expect(fourth.run.status).toBe('SUCCEEDED');
    const back = fallbacks(fourth.events);
    expect(back).toEqual([expect.objectContaining({ fallbackFrom: steady, agentId: flaky, item: expect.stringMatching(/i01\.txt$/) as unknown })]);
    expect(fourth.run.steps.translate).toMatchObject({ agentId: steady, fallbacks: { [flaky]: 1 } });
    const recovered = await health(flaky);
    expect(recovered.circuit).toMatchObject({ state: 'closed', consecutiveFailures: 0 });
    expect(recovered.status).not.toBe('Unhealthy');
  }, 300_000);

  it('should fall back within the child executions of a Distributed Map and count every item once', async () => {
    const { skill, flaky, steady } = await twoAgents('summarize');
    const workflow = await fallbackWorkflow('summarize', skill, { distributed: true, batchSize: 2 });
    const { run, events } = await runToEnd(workflow.id, 6, { failing: 'i0[14]\\.txt$' });
    expect(run.status).toBe('SUCCEEDED');
    const moved = fallbacks(events);
    expect(moved.map((m) => m.item!.replace(/^.*\//, '')).sort()).toEqual(['i01.txt', 'i04.txt']);
    expect(moved.every((m) => m.fallbackFrom === flaky && m.agentId === steady)).toBe(true);
    expect(events.find((e) => e.event === 'StepCompleted')!.payload.summary).toMatchObject({ totalItems: 6, successCount: 6, failureCount: 0 });
    expect(run.steps.summarize).toMatchObject({ succeeded: 6, failed: 0, fallbacks: { [steady]: 2 } });
  });
});
