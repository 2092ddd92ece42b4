import { describe, expect, it } from 'vitest';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { EventValidationError } from '../../../lambdas/core/events/schemas';
import { createRun, docClient, emitter, itemEvent, range, tableName } from './support';

async function storedSeqs(runId: string): Promise<number[]> {
  const seqs: number[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await docClient().send(
      new QueryCommand({ TableName: tableName('TablesEvents'), KeyConditionExpression: 'runId = :r AND seq > :z', ExpressionAttributeValues: { ':r': runId, ':z': 0 }, ExclusiveStartKey }),
    );
    for (const item of page.Items ?? []) seqs.push(item.seq as number);
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return seqs;
}

describe('Class: EventStore (DynamoDB Local)', () => {
  describe('Method: emit', () => {
    it('should number 300 concurrent emits from 30 emitters 1..300 with no hole and no duplicate', async () => {
      const runId = await createRun();
      const emitters = Array.from({ length: 30 }, () => emitter());
      const results = await Promise.all(
        range(1, 300).map((i) => {
          const { event, payload } = itemEvent(i);
          return emitters[i % emitters.length].emit(runId, event, payload);
        }),
      );
      const seqs = results.map((e) => e!.seq).sort((a, b) => a - b);
      expect(seqs).toEqual(range(1, 300));
      expect((await storedSeqs(runId)).sort((a, b) => a - b)).toEqual(range(1, 300));
      // Emits of the same tick share a counter ADD: writes per event stay near one.
      const writes = emitters.reduce((n, e) => n + e.stats.eventPuts + e.stats.counterUpdates, 0);
      expect(writes / 300).toBeLessThan(1.2);
      expect(emitters.reduce((n, e) => n + e.stats.fillers + e.stats.reEmitted, 0)).toBe(0);
    });

    it('should keep one emitter\'s events in the order they were emitted', async () => {
      const runId = await createRun();
      const store = emitter();
      const out = await Promise.all(range(1, 50).map((i) => store.emit(runId, 'ItemStarted', itemEvent(i).payload)));
      expect(out.map((e) => (e!.payload as { index: number }).index)).toEqual(range(1, 50));
      expect(out.map((e) => e!.seq)).toEqual(range(1, 50));
    });

    it('should refuse an invalid payload before writing anything', async () => {
      const runId = await createRun();
      const store = emitter();
      await expect(store.emit(runId, 'ItemStarted', { stepId: 'a' } as never)).rejects.toBeInstanceOf(EventValidationError);
      await expect(store.emitMany(runId, [itemEvent(1), { event: 'ItemProgress', payload: { progress: 7 } }])).rejects.toBeInstanceOf(EventValidationError);
      expect(await storedSeqs(runId)).toEqual([]);
      expect(await store.lastAllocatedSeq(runId)).toBe(0);
    });

    it('should set expiresAt from the retention setting', async () => {
      const runId = await createRun();
      const now = Date.now();
      const store = emitter({ retentionSeconds: 3600, clock: () => now });
      await store.emit(runId, 'RunStarted', {});
      const { Items } = await docClient().send(new QueryCommand({ TableName: tableName('TablesEvents'), KeyConditionExpression: 'runId = :r', ExpressionAttributeValues: { ':r': runId } }));
      const event = Items!.find((i) => i.seq === 1)!;
      expect(event.expiresAt).toBe(Math.floor(now / 1000) + 3600);
      expect(event.at).toBe(new Date(now).toISOString());
    });
  });

  describe('Method: emitMany', () => {
    it('should write a batch with one counter ADD, in order', async () => {
      const runId = await createRun();
      const store = emitter();
      const out = await store.emitMany(runId, range(1, 40).map(itemEvent));
      expect(out.map((e) => e.seq)).toEqual(range(1, 40));
      expect(store.stats.counterUpdates).toBe(1);
      expect(store.stats.eventPuts).toBe(40);
    });
  });

  describe('Method: fill', () => {
    it('should fill an abandoned number with a Noop and re-number an emit that arrives after the filler', async () => {
      const runId = await createRun();
      const store = emitter();
      await store.emit(runId, 'RunStarted', {});
      // A dead emitter reserved seq 2 and never wrote it; a reader fills it.
      const filler = await store.fill(runId, 2, 'test');
      expect(filler.event).toBe('Noop');
      const again = await store.fill(runId, 2, 'second reader');
      expect(again.payload).toEqual({ reason: 'test' });
      expect(await store.fill(runId, 1, 'late')).toMatchObject({ event: 'RunStarted' });
    });
  });

  describe('Method: readResolved', () => {
    it('should stop before a young hole and fill an old one', async () => {
      const runId = await createRun();
      let now = Date.now();
      const store = emitter({ clock: () => now, holeGraceMs: 1_000, staleHoleMs: 3_000 });
      await store.emit(runId, 'RunStarted', {});
      // Reserve seq 2 the way a crashed emitter would: the counter moves, the event never lands.
      const other = emitter({ clock: () => now });
      // Whatever command the emitter sends goes on to the real client, but a Put.
      const crashing = { send: async (command: object) => (command.constructor.name === 'PutCommand' ? Promise.reject(new Error('crash')) : docClient().send(command as never)) };
      (other as unknown as { client: typeof crashing }).client = crashing;
      await other.emit(runId, 'RunResumed', {}).catch(() => undefined);
      await store.emit(runId, 'RunPaused', {});
      const young = await store.readResolved(runId, 0, 10);
      expect(young.events.map((e) => e.seq)).toEqual([1]);
      expect(young.hole?.seq).toBe(2);
      now += 5_000;
      const old = await store.readResolved(runId, 0, 10);
      expect(old.events.map((e) => [e.seq, e.event])).toEqual([
        [1, 'RunStarted'],
        [2, 'Noop'],
        [3, 'RunPaused'],
      ]);
    });
  });
});
