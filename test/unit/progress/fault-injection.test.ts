import { describe, expect, it } from 'vitest';
import { faultOf } from '../../../lambdas/broadcaster/fault-injection';

describe('Function: faultOf', () => {
  it('should honour a fault marker only in the local cloud and only until failUntil', () => {
    const item = { fault: { failUntil: 1_000, stage: 'midway' } };
    expect(faultOf(item, 500, true)).toEqual({ failUntil: 1_000, stage: 'midway' });
    expect(faultOf(item, 1_000, true)).toBeUndefined();
    expect(faultOf(item, 500, false)).toBeUndefined();
  });

  it('should default to failing before any frame is sent and ignore malformed markers', () => {
    expect(faultOf({ fault: { failUntil: 10 } }, 0, true)?.stage).toBe('before');
    expect(faultOf({ fault: { failUntil: 'soon' } }, 0, true)).toBeUndefined();
    expect(faultOf({}, 0, true)).toBeUndefined();
  });
});
