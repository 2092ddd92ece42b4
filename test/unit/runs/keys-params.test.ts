import { describe, expect, it } from 'vitest';
import { normaliseInputKey, parseS3Uri } from '../../../lambdas/core/runs/keys';
import { resolveParameters } from '../../../lambdas/core/runs/params';
import { commandConflict, finalStatusFor, newRunId, RUN_ID_PATTERN, summarize } from '../../../lambdas/core/runs/model';

describe('Function: normaliseInputKey', () => {
  it('should normalise harmless keys relative to inputs/', () => {
    expect(normaliseInputKey('a/b.cbl', '$')).toEqual({ key: 'a/b.cbl' });
    expect(normaliseInputKey('./a//b.cbl', '$')).toEqual({ key: 'a/b.cbl' });
    expect(normaliseInputKey('inputs/a.cbl', '$')).toEqual({ key: 'a.cbl' });
    expect(normaliseInputKey('dir.with.dots/..hidden', '$')).toEqual({ key: 'dir.with.dots/..hidden' });
  });

  it('should refuse whatever could leave the run prefix, naming the path and the reason', () => {
    const cases: Array<[unknown, string]> = [
      ['../x', 'key.traversal'],
      ['a/../../x', 'key.traversal'],
      ['/etc/passwd', 'key.absolute'],
      ['C:/x', 'key.absolute'],
      ['s3://b/k', 'key.absolute'],
      ['a\u0000b', 'key.control'],
      ['a\nb', 'key.control'],
      ['a\\..\\b', 'key.backslash'],
      ['', 'key.invalid'],
      ['dir/', 'key.invalid'],
      ['./.', 'key.invalid'],
      [42, 'key.invalid'],
      ['x'.repeat(600), 'key.invalid'],
    ];
    for (const [raw, code] of cases) {
      const out = normaliseInputKey(raw, '$.inputs[3].key');
      expect(out, String(raw)).toEqual({ problem: expect.objectContaining({ path: '$.inputs[3].key', code }) as unknown });
    }
  });

  it('should parse s3 URIs', () => {
    expect(parseS3Uri('s3://my-bucket/a/b.txt')).toEqual({ bucket: 'my-bucket', key: 'a/b.txt' });
    expect(parseS3Uri('https://x/y')).toBeUndefined();
  });
});

describe('Function: resolveParameters', () => {
  const specs = {
    lang: { type: 'string' as const, enum: ['java', 'kotlin'], default: 'java' },
    n: { type: 'integer' as const },
    must: { type: 'boolean' as const, required: true },
    ratio: { type: 'number' as const, default: 0.5 },
  };

  it('should apply defaults and keep given typed values', () => {
    expect(resolveParameters(specs, { must: false, n: 3 })).toEqual({ parameters: { lang: 'java', n: 3, must: false, ratio: 0.5 }, problems: [] });
  });

  it('should report every problem with its JSON path', () => {
    const { problems } = resolveParameters(specs, { lang: 'cobol', n: 1.5, ratio: '1', extra: 1 });
    expect(problems.map((p) => [p.path, p.code])).toEqual([
      ['$.parameters.extra', 'parameters.unknown'],
      ['$.parameters.lang', 'parameters.enum'],
      ['$.parameters.n', 'parameters.type'],
      ['$.parameters.must', 'parameters.required'],
      ['$.parameters.ratio', 'parameters.type'],
    ]);
    expect(resolveParameters(specs, [1]).problems[0].path).toBe('$.parameters');
    expect(resolveParameters(undefined, undefined)).toEqual({ parameters: {}, problems: [] });
  });
});

describe('Module: run model', () => {
  it('should tell which commands apply to which statuses', () => {
    expect(commandConflict('pause', 'SUCCEEDED')).toMatch(/SUCCEEDED/);
    expect(commandConflict('cancel', 'CANCELLED')).toBeDefined();
    expect(commandConflict('cancel', 'PAUSED')).toBeUndefined();
    expect(commandConflict('start', 'RUNNING')).toBeDefined();
    expect(commandConflict('start', 'QUEUED')).toBeUndefined();
    expect(commandConflict('setConcurrency', 'CANCELLING')).toBeDefined();
  });

  it('should let a cancel intent decide the final status', () => {
    expect(finalStatusFor('SUCCEEDED', false)).toBe('SUCCEEDED');
    expect(finalStatusFor('TIMED_OUT', false)).toBe('FAILED');
    expect(finalStatusFor('ABORTED', false)).toBe('CANCELLED');
    expect(finalStatusFor('FAILED', true)).toBe('CANCELLED');
  });

  it('should mint run ids that sort by creation and are valid execution names', () => {
    const a = newRunId(1_700_000_000_000, () => 'abcdef0123456789');
    const b = newRunId(1_700_000_000_001, () => '0000000000000000');
    expect(a < b).toBe(true);
    expect(a).toMatch(RUN_ID_PATTERN);
    expect(a.length).toBeLessThanOrEqual(80);
  });

  it('should summarise the step state, live or ended', () => {
    const run = { createdAt: '2026-01-01T00:00:00.000Z', startedAt: '2026-01-01T00:00:01.000Z', steps: { a: { status: 'succeeded' as const, totalItems: 3, succeeded: 2, failed: 1, tokens: 5, costUsd: 0.1 } } };
    expect(summarize(run, Date.parse('2026-01-01T00:00:03.000Z'))).toEqual({ totalItems: 3, successCount: 2, failureCount: 1, totalTokens: 5, totalCostUsd: 0.1, durationMs: 2_000 });
  });
});
