/**
 * Injected failures, for tests of the local cloud only: an event item may carry a `fault` attribute (written
 * through EventStore.emit's `attributes` option, never part of the event a client sees):
 *   {fault: {failUntil: <epoch ms>, stage?: 'before' | 'midway'}}
 * While the clock is before `failUntil`, the broadcaster fails that record: `before` fails it before any
 * frame is sent, `midway` after the first subscriber was served. The stream mapping then retries (bisect,
 * bounded retries) as it would after a crash. Honoured only when AGENTPLANE_LOCAL === 'true', which only the
 * local cloud sets, so a deployed broadcaster ignores the attribute.
 */
export interface Fault {
  failUntil: number;
  stage: 'before' | 'midway';
}

export class InjectedFailureError extends Error {
  override readonly name = 'InjectedFailureError';
}

export function faultOf(item: Record<string, unknown>, now = Date.now(), enabled = process.env.AGENTPLANE_LOCAL === 'true'): Fault | undefined {
  if (!enabled) return undefined;
  const fault = item.fault as Partial<Fault> | undefined;
  if (!fault || typeof fault.failUntil !== 'number' || now >= fault.failUntil) return undefined;
  return { failUntil: fault.failUntil, stage: fault.stage === 'midway' ? 'midway' : 'before' };
}
