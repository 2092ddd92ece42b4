import { z } from 'zod';
import { json, type RouteTable, pathParameter } from '../edge/http/api';
import { ValidationError } from '../core/errors';
import { problemsOf } from '../core/validation';
import { requirePrincipal } from '../core/auth/principal';
import { requiredEnv } from '../aws/env';
import { EventStore, toEnvelope } from '../aws/event-store';
import { RunAccess } from '../aws/run-access';

/**
 * `GET /runs/{id}/events?afterSeq=&limit=`: the run's event log, in seq order, the same the WebSocket replays.
 * A page stops before a hole younger than the grace period (an event still being written) and fills an
 * older one with a Noop, so paging with `afterSeq = nextAfterSeq` never skips an event.
 */
const EventsQuerySchema = z
  .object({
    afterSeq: z.coerce.number().int().nonnegative().default(0),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  });

let store: EventStore | undefined;
let runs: RunAccess | undefined;

export const eventsRoutes: RouteTable = {
  'GET /runs/{id}/events': async (request) => {
    const principal = requirePrincipal(request.principal);
    const parsed = EventsQuerySchema.safeParse(request.query);
    if (!parsed.success) throw new ValidationError('Invalid query parameters', problemsOf(parsed.error));
    const { afterSeq, limit } = parsed.data;
    runs ??= new RunAccess(requiredEnv('RUNS_TABLE'));
    store ??= new EventStore({ tableName: requiredEnv('EVENTS_TABLE') });
    const runId = pathParameter(request, 'id');
    await runs.forTenant(runId, principal.tenant);
    const first = await store.firstAvailableSeq(runId);
    // Expired events cannot be replayed: start at the first one still stored and say so.
    const from = first !== undefined && afterSeq < first - 1 ? first - 1 : afterSeq;
    const page = await store.readResolved(runId, from, limit);
    const events = page.events.map(toEnvelope);
    return json(200, {
      events,
      nextAfterSeq: events.length > 0 ? events[events.length - 1].seq : from,
      ...(from !== afterSeq ? { firstAvailableSeq: first } : {}),
    });
  },
};

