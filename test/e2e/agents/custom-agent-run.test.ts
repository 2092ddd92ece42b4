/**
 * Adding an agent takes no change to the control plane: a custom agent registered over the API, with a skill no
 * built-in serves, is selected for a step of a new workflow and runs it. The run is then driven over the
 * WebSocket too (`runs.command`), the same command as REST.
 */
import { describe, expect, it } from 'vitest';
import { http, target } from '../../support/target';
import { TestSocket } from '../../support/ws-client';
import type { AgentBody, EventsPageBody, RunBody, RunCreatedBody, TokenBody } from '../../support/api';
import { registerWorkflow, unique, waitFor } from '../runs/support';

describe('Registry: a custom agent in a workflow', () => {
  it('should select the custom agent for its skill and run the step with it', async () => {
    const builtIn = await http<Partial<AgentBody> & { functionArn?: string }>('GET', '/agents/diagnostics.delay');
    expect(builtIn.status).toBe(200);
    const agentId = unique('custom-echo');
    const skill = `${agentId}.skill`;
    const registered = await http('POST', '/agents', {
      body: {
        id: agentId,
        name: 'Custom echo',
        version: '1.0.0',
        description: 'A customer-provided Lambda (here the diagnostics function under another id)',
        functionArn: builtIn.body.functionArn ?? builtIn.body.agent?.functionArn,
        capabilities: [{ skill }],
        tags: ['custom'],
      },
    });
    expect(registered.status).toBeLessThan(300);

    const workflow = await registerWorkflow({
      id: unique('custom-flow'),
      steps: [{ id: 'echo', capability: { skill }, forEach: 'inputs', config: { delayMs: 1 } }],
    });
    const created = await http<RunCreatedBody>('POST', '/runs', {
      body: { workflowId: workflow.id, inputs: [{ key: 'a.txt', content: 'a' }, { key: 'b.txt', content: 'b' }] },
    });
    expect(created.status).toBe(202);
    const runId: string = created.body.runId;
    const run = await waitFor('the run to end', async () => {
      const res = await http<RunBody>('GET', `/runs/${runId}`);
      return ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(res.body.status) ? res.body : undefined;
    }, 120_000);
    expect(run.status).toBe('SUCCEEDED');
    const events = (await http<EventsPageBody>('GET', `/runs/${runId}/events?afterSeq=0&limit=1000`)).body.events;
    const selected = events.find((e) => e.event === 'AgentSelected');
    expect(selected?.payload).toMatchObject({ stepId: 'echo', agentId });
    expect(events.filter((e) => e.event === 'ItemCompleted')).toHaveLength(2);
  });

  it('should run control commands over the WebSocket with the REST semantics', async () => {
    const workflow = await registerWorkflow({
      id: unique('ws-control'),
      steps: [{ id: 'slow', capability: { skill: 'diagnostics.delay' }, forEach: 'inputs', maxConcurrency: 1, config: { delayMs: 200 } }],
    });
    const created = await http<RunCreatedBody>('POST', '/runs', {
      body: { workflowId: workflow.id, inputs: Array.from({ length: 20 }, (_, i) => ({ key: `i${i}.txt`, content: 'x' })) },
    });
    const runId: string = created.body.runId;
    const { wsUrl, token } = target();
    const socket = await TestSocket.open(`${wsUrl}?token=${encodeURIComponent(token)}`);
    try {
      const cancel = await socket.request('c1', 'runs.command', { runId, type: 'cancel', idempotencyKey: unique('k') });
      expect(cancel.ok).toBe(true);
      const again = await socket.request('c2', 'runs.command', { runId, type: 'setConcurrency' });
      expect(again.ok).toBe(false);
      expect(again.error!.code).toBe('invalid_params');
      const other = await http<TokenBody>('POST', '/tokens', { body: { tenant: unique('other').slice(0, 40) } });
      const stranger = await TestSocket.open(`${wsUrl}?token=${encodeURIComponent(other.body.token)}`);
      try {
        const denied = await stranger.request('s1', 'runs.command', { runId, type: 'pause' });
        expect(denied.error!.code).toBe('not_found');
      } finally {
        await stranger.close();
      }
    } finally {
      await socket.close();
    }
    const run = await waitFor('the cancelled run to end', async () => {
      const res = await http<RunBody>('GET', `/runs/${runId}`);
      return ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(res.body.status) ? res.body : undefined;
    }, 120_000);
    expect(run.status).toBe('CANCELLED');
  });
});
