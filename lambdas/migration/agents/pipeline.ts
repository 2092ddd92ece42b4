import type { LlmProvider } from '../../llm/types';
import { runAnalysis } from './analysis';
import { runDependencyMapping } from './dependencies';
import { runDiscovery } from './discovery';
import { CobolAnalysisError } from './errors';
import { runGeneration } from './generation';
import type { Javac } from './javac';
import { LAYOUT } from './layout';
import { runReport, type ReportResult } from './report';
import { runValidation, type ValidationReport } from './validation';
import type { MigrationWorkspace } from './workspace';

export interface PipelineOptions {
  javaPackage?: string;
  llm?: LlmProvider;
  javac?: Javac;
  repairAttempts?: number;
  runId?: string;
  generatedAt?: string;
  /** Items processed at once in the fan-out stages (the workflow's maxConcurrency). */
  concurrency?: number;
}

export interface PipelineResult {
  timingsMs: { discovery: number; analysis: number; dependencies: number; generation: number; validation: number; report: number; total: number };
  analyzed: string[];
  skipped: string[];
  failed: Array<{ key: string; error: CobolAnalysisError }>;
  generated: string[];
  validation: ValidationReport;
  report: ReportResult;
}

async function eachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

/**
 * The cobol-to-java workflow's agents in-process, in the workflow's order, over one workspace: what the
 * bench measures and the tests check, without the engine (no events, no retries, no registry).
 */
export async function runMigrationPipeline(ws: MigrationWorkspace, opts: PipelineOptions = {}): Promise<PipelineResult> {
  const t = () => performance.now();
  const start = t();
  const concurrency = opts.concurrency ?? 4;
  let mark = t();
  const lap = () => {
    const now = t();
    const ms = now - mark;
    mark = now;
    return Math.round(ms * 10) / 10;
  };

  await runDiscovery(ws);
  const discovery = lap();

  const analyzed: string[] = [];
  const skipped: string[] = [];
  const failed: PipelineResult['failed'] = [];
  await eachLimited(await ws.list(LAYOUT.inputs), concurrency, async (key) => {
    try {
      const r = await runAnalysis(ws, key);
      (r.status === 'analyzed' ? analyzed : skipped).push(r.outputKey);
    } catch (error) {
      if (error instanceof CobolAnalysisError) failed.push({ key, error });
      else throw error;
    }
  });
  const analysis = lap();

  await runDependencyMapping(ws);
  const dependencies = lap();

  const generated: string[] = [];
  await eachLimited([...analyzed, ...skipped].sort(), concurrency, async (key) => {
    const r = await runGeneration(ws, key, { ...(opts.javaPackage ? { javaPackage: opts.javaPackage } : {}), ...(opts.llm ? { llm: opts.llm } : {}) });
    if (r.status === 'generated') generated.push(r.outputKey);
  });
  const generation = lap();

  const { report: validationReport } = await runValidation(ws, {
    ...(opts.javac ? { javac: opts.javac } : {}),
    ...(opts.llm ? { llm: opts.llm } : {}),
    ...(opts.repairAttempts !== undefined ? { repairAttempts: opts.repairAttempts } : {}),
  });
  const validation = lap();

  const report = await runReport(ws, { ...(opts.runId ? { runId: opts.runId } : {}), ...(opts.generatedAt ? { generatedAt: opts.generatedAt } : {}) });
  const reportMs = lap();

  return {
    timingsMs: { discovery, analysis, dependencies, generation, validation, report: reportMs, total: Math.round((t() - start) * 10) / 10 },
    analyzed: analyzed.sort(),
    skipped: skipped.sort(),
    failed: failed.sort((a, b) => a.key.localeCompare(b.key)),
    generated: generated.sort(),
    validation: validationReport,
    report,
  };
}
