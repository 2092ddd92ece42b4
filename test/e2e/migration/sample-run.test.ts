/**
 * The product's first use, end to end through the public API only: the sample COBOL corpus goes in, compiling
 * Java and a report come out; the malformed program fails its item with its diagnostics; the tokens the offline
 * LLM provider reported show in the events and in GET /runs/{id}, at cost 0 and attributed to provider `offline`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { http, target } from '../../support/target';
import { runSample } from '../../../localstack/sample-run';
import type { RunView } from '../../../lambdas/client/run-view';
import type { EventsPageBody, RunBody } from '../../support/api';

const hasJavac = (() => {
  try {
    execFileSync('javac', ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

function javaFilesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? javaFilesUnder(path) : path.endsWith('.java') ? [path] : [];
  });
}

const quiet = Object.assign(Object.create(process.stdout), { write: () => true, isTTY: false }) as NodeJS.WriteStream;

describe('Sample migration: cobol-to-java on the platform', () => {
  const outDir = mkdtempSync(join(tmpdir(), 'agentplane-sample-'));
  let view: RunView;
  let runDir: string;
  let events: EventsPageBody['events'];

  beforeAll(async () => {
    view = await runSample(target(), outDir, quiet);
    runDir = join(outDir, view.runId);
    const page = await http<EventsPageBody>('GET', `/runs/${view.runId}/events?afterSeq=0&limit=1000`);
    events = page.body.events;
  }, 600_000);

  afterAll(() => { rmSync(outDir, { recursive: true, force: true }); });

  it('should succeed with every step, failing only the malformed program with its located diagnostics', () => {
    expect(view.status).toBe('SUCCEEDED');
    expect(view.steps.map((s) => s.stepId)).toEqual(['discovery', 'analyze', 'dependencies', 'generate', 'validate', 'report']);
    const analyze = view.steps.find((s) => s.stepId === 'analyze')!;
    expect(analyze.failed).toBe(1);
    const failures = events.filter((e) => e.event === 'ItemFailed').filter((e) => e.payload.retry === null);
    expect(failures).toHaveLength(1);
    expect(failures[0].payload.item).toMatch(/BADPROG\.cbl$/);
    expect(failures[0].payload.error.message).toMatch(/BADPROG\.cbl: \d+ error\(s\).*\d+:\d+ error/s);
  });

  it('should have the validation step compile every generated file', () => {
    const validation = JSON.parse(readFileSync(join(runDir, 'reports', 'validation.json'), 'utf8')) as { status: string; files: Array<{ compiled: boolean }> };
    expect(validation.status).toBe('passed');
    expect(validation.files.length).toBeGreaterThan(100);
    expect(validation.files.every((f) => f.compiled)).toBe(true);
  });

  it.skipIf(!hasJavac)('should download Java that javac compiles', () => {
    const files = javaFilesUnder(join(runDir, 'outputs'));
    expect(files.length).toBeGreaterThan(100);
    const classes = mkdtempSync(join(tmpdir(), 'agentplane-classes-'));
    try {
      execFileSync('javac', ['--release', '17', '-d', classes, ...files], { stdio: 'pipe' });
    } finally {
      rmSync(classes, { recursive: true, force: true });
    }
  });

  it('should write the report, the inventory and the dependency diagram', () => {
    for (const report of ['migration-report.md', 'migration-report.html', 'inventory.json', 'dependencies.json', 'dependencies.mmd', 'summary.json']) {
      expect(existsSync(join(runDir, 'reports', report)), report).toBe(true);
    }
    expect(readFileSync(join(runDir, 'reports', 'migration-report.md'), 'utf8')).toMatch(/EODRECON/);
  });

  it('should report the tokens the offline provider reported at cost 0, saying provider offline, in the events, the summaries and GET /runs/{id}', async () => {
    const attempts = events.filter((e) => e.event === 'ItemCompleted' || e.event === 'ItemFailed');
    const tokens = attempts.reduce((n, e) => n + (e.payload.metrics?.tokensUsed ?? 0), 0);
    const cost = attempts.reduce((n, e) => n + (e.payload.metrics?.costUsd ?? 0), 0);
    expect(tokens).toBeGreaterThan(0);
    // The offline provider calls nobody: no invented price.
    expect(cost).toBe(0);
    const spent = attempts.filter((e) => (e.payload.metrics?.tokensUsed ?? 0) > 0);
    expect(spent.length).toBeGreaterThan(0);
    for (const e of spent) expect(e.payload.metrics).toMatchObject({ costUsd: 0, provider: 'offline', model: 'offline-deterministic-1' });
    const usage = [{ provider: 'offline', model: 'offline-deterministic-1', tokens, costUsd: 0 }];

    const generate = events.filter((e) => e.event === 'StepCompleted').find((e) => e.payload.stepId === 'generate')!.payload.summary;
    expect(generate).toMatchObject({ totalCostUsd: 0, providers: ['offline'] });
    expect(generate.totalTokens).toBeGreaterThan(0);
    const succeeded = events.find((e) => e.event === 'RunSucceeded')!.payload.summary;
    expect(succeeded).toMatchObject({ totalTokens: tokens, totalCostUsd: 0, providers: ['offline'], usage });

    const run = await http<RunBody>('GET', `/runs/${view.runId}`);
    expect(run.body.status).toBe('SUCCEEDED');
    expect(run.body.summary).toMatchObject({ totalTokens: tokens, totalCostUsd: 0, providers: ['offline'], usage });
    expect(run.body.steps.generate).toMatchObject({ costUsd: 0, providers: ['offline'] });
    expect(view).toMatchObject({ tokens, costUsd: 0, providers: ['offline'] });

    // The migration report and the run's summary.json say whose figures these are.
    expect(readFileSync(join(runDir, 'reports', 'migration-report.md'), 'utf8')).toContain('- LLM: offline (offline-deterministic-1)');
    expect((JSON.parse(readFileSync(join(runDir, 'reports', 'summary.json'), 'utf8')) as { summary: unknown }).summary).toMatchObject({ totalTokens: tokens, totalCostUsd: 0, providers: ['offline'] });
  });
});
