import { readFileSync } from 'node:fs';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  EVENT_NAMES,
  type EventEnvelopeOf,
  type EventName,
  EventValidationError,
  type PayloadOf,
  eventsJsonSchema,
  makeEvent,
  parseEvent,
  safeParseEvent,
  validatePayload,
} from '../../../lambdas/core/events/schemas';

const metrics = { durationMs: 1200, tokensUsed: 800, costUsd: 0.0123, retryCount: 1 };
const summary = { totalItems: 3, successCount: 2, failureCount: 1, totalTokens: 2400, totalCostUsd: 0.04, durationMs: 9000 };

// Typed as a complete map so that adding an event without a sample fails to compile.
const samples: { [E in EventName]: PayloadOf<E> } = {
  RunQueued: { workflowId: 'cobol-to-java', version: 2, priority: 5 },
  RunStarted: { executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:wf:run-1' },
  RunPaused: { reason: 'user request' },
  RunResumed: {},
  ConcurrencyChanged: { maxConcurrency: 4, previous: 20 },
  RunSucceeded: { summary },
  RunFailed: { error: { type: 'StepFailed', message: 'generate failed' }, stepId: 'generate' },
  RunCancelled: { reason: 'user request', receipt: { itemsDone: 12, itemsAbandoned: 3 } },
  AgentSelected: {
    stepId: 'analyze',
    agentId: 'cobol-analyzer',
    score: 0.87,
    candidates: [{ agentId: 'cobol-analyzer', score: 0.87, reasons: ['priority 70'] }],
    fallbackFrom: 'cobol-analyzer-v1',
    item: 'inputs/PAYROLL.cbl',
    reason: 'circuit open',
  },
  StepStarted: { stepId: 'analyze', skill: 'cobol-analysis', agentId: 'cobol-analyzer', totalItems: 3 },
  StepSkipped: { stepId: 'generate', reason: 'when: targetLanguage equals java is false' },
  ItemStarted: { stepId: 'analyze', item: 'inputs/PAYROLL.cbl', index: 0, total: 3 },
  ItemProgress: { stepId: 'analyze', item: 'inputs/PAYROLL.cbl', progress: 0.5, tokensUsed: 400, etaMs: 600 },
  ItemCompleted: { stepId: 'analyze', item: 'inputs/PAYROLL.cbl', outputKey: 'state/analyze/PAYROLL.json', metrics },
  ItemFailed: {
    stepId: 'analyze',
    item: 'inputs/BROKEN.cbl',
    error: { type: 'FatalError', message: 'not COBOL' },
    retry: null,
    lastProgress: { progress: 0.2, tokensUsed: 50 },
  },
  StepCompleted: { stepId: 'analyze', summary },
  Noop: { reason: 'reserved by a failed emitter' },
};

const at = '2026-03-01T12:00:00.000Z';

describe('Spend attribution (optional fields)', () => {
  it('should keep the provider and model of item metrics, progress spend, and the providers and usage of summaries', () => {
    const spent = { ...metrics, provider: 'offline', model: 'offline-deterministic-1', costUsd: 0 };
    expect(validatePayload('ItemCompleted', { ...samples.ItemCompleted, metrics: spent }).metrics).toEqual(spent);
    expect(validatePayload('ItemFailed', { ...samples.ItemFailed, metrics: spent, lastProgress: { progress: 0.5, tokensUsed: 9, costUsd: 0.1 } })).toMatchObject({ metrics: spent, lastProgress: { costUsd: 0.1 } });
    expect(validatePayload('ItemProgress', { ...samples.ItemProgress, costUsd: 0.002, provider: 'openai', model: 'gpt-x' })).toMatchObject({ costUsd: 0.002, provider: 'openai', model: 'gpt-x' });
    const attributed = { ...summary, providers: ['offline', 'openai'], usage: [{ provider: 'openai', model: 'gpt-x', tokens: 10, costUsd: 0.04 }, { tokens: 5, costUsd: 0 }] };
    expect(validatePayload('StepCompleted', { stepId: 's', summary: attributed }).summary).toEqual(attributed);
    expect(validatePayload('RunSucceeded', { summary: attributed }).summary).toEqual(attributed);
    // Older payloads (no attribution) stay valid; a provider cannot be empty.
    expect(validatePayload('RunSucceeded', { summary })).toEqual({ summary });
    expect(() => validatePayload('ItemCompleted', { ...samples.ItemCompleted, metrics: { ...metrics, provider: '' } })).toThrow(/metrics\.provider/);
  });
});

describe('Function: validatePayload', () => {
  it.each(EVENT_NAMES)('should accept a well-formed %s payload', (name) => {
    expect(validatePayload(name, samples[name])).toEqual(samples[name]);
  });

  it('should reject a progress outside 0..1 naming the field', () => {
    expect(() => validatePayload('ItemProgress', { ...samples.ItemProgress, progress: 1.5 })).toThrow(/\$\.progress/);
  });

  it('should list every missing metric of ItemCompleted', () => {
    try {
      validatePayload('ItemCompleted', { ...samples.ItemCompleted, metrics: { durationMs: 1 } });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(EventValidationError);
      const paths = (error as EventValidationError).issues.map((i) => i.path);
      expect(paths).toEqual(expect.arrayContaining(['$.metrics.tokensUsed', '$.metrics.costUsd', '$.metrics.retryCount']));
    }
  });

  it('should require the cancellation receipt', () => {
    expect(() => validatePayload('RunCancelled', { reason: 'x' })).toThrow(EventValidationError);
  });

  it('should accept ItemFailed with a retry plan', () => {
    const payload = { ...samples.ItemFailed, retry: { attempt: 2, nextDelayMs: 4000 } };
    expect(validatePayload('ItemFailed', payload).retry).toEqual({ attempt: 2, nextDelayMs: 4000 });
  });

  it('should reject an unknown event name', () => {
    expect(() => validatePayload('Bogus' as EventName, {})).toThrow(/unknown event/);
  });

  it('should strip unknown payload fields rather than fail', () => {
    expect(validatePayload('StepSkipped', { ...samples.StepSkipped, extra: 1 })).toEqual(samples.StepSkipped);
  });
});

describe('Function: parseEvent', () => {
  it('should parse an envelope and narrow the payload by event name', () => {
    const event = parseEvent({ runId: 'run-1', seq: 7, event: 'ItemCompleted', at, payload: samples.ItemCompleted });
    expect(event.event).toBe('ItemCompleted');
    if (event.event === 'ItemCompleted') expect(event.payload.metrics.costUsd).toBe(0.0123);
  });

  it('should reject a payload that belongs to another event', () => {
    const result = safeParseEvent({ runId: 'run-1', seq: 1, event: 'StepStarted', at, payload: samples.StepSkipped });
    expect(result.ok).toBe(false);
  });

  it('should reject seq 0, a non-ISO time and an unknown event', () => {
    const base = { runId: 'run-1', seq: 1, event: 'RunResumed', at, payload: {} };
    expect(safeParseEvent({ ...base, seq: 0 }).ok).toBe(false);
    expect(safeParseEvent({ ...base, at: 'yesterday' }).ok).toBe(false);
    expect(safeParseEvent({ ...base, event: 'RunExploded' }).ok).toBe(false);
    expect(() => parseEvent({ ...base, seq: 1.5 })).toThrow(EventValidationError);
  });
});

describe('Function: makeEvent', () => {
  it('should build a typed, validated envelope', () => {
    const event = makeEvent('run-1', 3, 'StepStarted', samples.StepStarted, new Date(at));
    expectTypeOf(event).toEqualTypeOf<EventEnvelopeOf<'StepStarted'>>();
    expect(event).toEqual({ runId: 'run-1', seq: 3, event: 'StepStarted', at, payload: samples.StepStarted });
  });

  it('should refuse an invalid payload at emit time', () => {
    expect(() => makeEvent('run-1', 1, 'ItemStarted', { ...samples.ItemStarted, index: -1 }, at)).toThrow(/payload\.index/);
  });
});

describe('Function: eventsJsonSchema', () => {
  // Never written here: after changing a schema, run `npm run golden:update` and review the diff.
  it('should match the committed docs/events.schema.json', () => {
    const committed: unknown = JSON.parse(readFileSync(new URL('../../../docs/events.schema.json', import.meta.url), 'utf8'));
    expect(committed, 'docs/events.schema.json is stale: run npm run golden:update').toEqual(eventsJsonSchema());
  });

  it('should describe every event', () => {
    const schema = eventsJsonSchema() as { oneOf: Array<{ properties: { event: { const: string } } }> };
    expect(schema.oneOf.map((option) => option.properties.event.const).sort()).toEqual([...EVENT_NAMES].sort());
  });
});
