/**
 * A real run (workflow → Step Functions → agent Lambdas → events table → stream → broadcaster) with 500 items
 * and 10 subscribers: every subscriber receives the identical sequence 1..N, with no gap or duplicate, equal to
 * the REST replay. Public API only; subscribers use the project's client library.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { http, target } from '../../support/target';
import type { EventsPageBody, RunBody, RunCreatedBody } from '../../support/api';
import { ProgressClient } from '../../../lambdas/client/progress-client';
import { registerWorkflow, fanOutWorkflow, unique, waitFor, command } from '../runs/support';

const ITEMS = 500;
const SUBSCRIBERS = 10;

async function replay(runId: string): Promise<Array<{ seq: number; event: string }>> {
  const out: Array<{ seq: number; event: string }> = [];
  let afterSeq = 0;
  for (;;) {
    const page = await http<EventsPageBody>('GET', `/runs/${runId}/events?afterSeq=${afterSeq}&limit=500`);
    out.push(...page.body.events);
    if (page.body.events.length === 0 || page.body.nextAfterSeq === afterSeq) return out;
    afterSeq = page.body.nextAfterSeq;
  }
}

describe('Progress: a 500-item run streamed to 10 subscribers', () => {
  const clients: ProgressClient[] = [];
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
  });

  it('should give every subscriber the identical gap-free sequence, equal to the REST replay', async () => {
    const { wsUrl, token } = target();
    const workflow = await registerWorkflow(fanOutWorkflow(unique('stream500'), { delayMs: 0 }, { maxConcurrency: 20 }));
    const inputs = Array.from({ length: ITEMS }, (_, i) => ({ key: `items/${String(i).padStart(4, '0')}.txt`, content: `item ${i}` }));
    const created = await http<RunCreatedBody>('POST', '/runs', { body: { workflowId: workflow.id, inputs, start: false } });
    expect(created.status).toBe(202);
    const runId: string = created.body.runId;

    const received: Array<Array<{ seq: number; event: string }>> = [];
    const done: Array<Promise<void>> = [];
    for (let i = 0; i < SUBSCRIBERS; i++) {
      const client = new ProgressClient({ url: wsUrl, token });
      clients.push(client);
      const frames: Array<{ seq: number; event: string }> = [];
      received.push(frames);
      done.push(
        new Promise<void>((resolve, reject) => {
          const subscription = client.subscribe(runId, {
            afterSeq: 0,
            includeNoop: true,
            onEvent: (e) => {
              frames.push({ seq: e.seq, event: e.event });
              if (e.event === 'RunSucceeded' || e.event === 'RunFailed' || e.event === 'RunCancelled') resolve();
            },
            onError: reject,
          });
          subscription.ready.catch(reject);
        }),
      );
    }
    expect((await command(runId, { type: 'start' })).status).toBe(202);
    await Promise.race([
      Promise.all(done),
      new Promise((_, reject) => setTimeout(() => { reject(new Error('subscribers did not see the run end within 5 minutes')); }, 300_000)),
    ]);

    const final = await waitFor('the run record to be final', async () => {
      const run = await http<RunBody>('GET', `/runs/${runId}`);
      return run.body.status === 'SUCCEEDED' ? run.body : undefined;
    }, 60_000);
    expect(final.summary.successCount).toBe(ITEMS);

    const rest = await replay(runId);
    const last = rest.at(-1)!.seq;
    expect(rest.map((e) => e.seq)).toEqual(Array.from({ length: last }, (_, i) => i + 1));
    expect(rest.filter((e) => e.event === 'ItemCompleted')).toHaveLength(ITEMS);
    for (const frames of received) {
      // Each subscriber's log ends at the run's final event; the replay may hold nothing after it.
      expect(frames).toEqual(rest.slice(0, frames.length).map(({ seq, event }) => ({ seq, event })));
      expect(frames.at(-1)!.event).toBe('RunSucceeded');
    }
    // Bounded by the waits above (5 minutes for the run to end, 1 for its record).
  }, 420_000);
});
