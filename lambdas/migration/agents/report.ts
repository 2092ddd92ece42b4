import { mapDependencies, programName, type DependencyGraph } from '../cobol/dependencies';
import type { Diagnostic } from '../cobol/types';
import { renderReport, type ReportInput, type ReportProgram } from '../report/render';
import { loadAnalyses, type StoredAnalysis } from './analysis';
import { loadManifests, type GenerationManifest } from './generation';
import { LAYOUT } from './layout';
import { getJson, type MigrationWorkspace } from './workspace';
import type { ValidationReport } from './validation';

type AgentUsage = NonNullable<ReportInput['usage']['byAgent']>[number];

export interface ReportOptions {
  runId?: string;
  /** ISO time; the caller's clock, so the same workspace renders the same report. */
  generatedAt?: string;
  title?: string;
  /**
   * Usage known from elsewhere (the run's StepCompleted summaries, passed in by the engine or a caller):
   * replaces the report-derived figures of the same agent name.
   */
  usage?: AgentUsage[];
}

export interface ReportResult {
  outputKey: string;
  htmlKey: string;
  input: ReportInput;
}

function counts(diagnostics: Diagnostic[]): { errors: number; warnings: number } {
  return { errors: diagnostics.filter((d) => d.severity === 'error').length, warnings: diagnostics.filter((d) => d.severity === 'warning').length };
}

function programRow(a: StoredAnalysis, status: ReportProgram['status'], todos?: number): ReportProgram {
  const m = a.metrics;
  return {
    name: programName(a),
    fileName: a.fileName,
    status,
    metrics: { totalLines: m.totalLines, codeLines: m.codeLines, commentLines: m.commentLines, paragraphs: m.paragraphs, statements: m.statements, complexity: m.complexity },
    ...counts(a.diagnostics),
    ...(todos !== undefined ? { todos } : {}),
  };
}

/** The distinct values, comma-separated (one model is the usual case; a redeploy mid-run can make two). */
const distinct = (values: Array<string | undefined>): string | undefined => {
  const set = [...new Set(values.filter((v): v is string => !!v))].sort();
  return set.length > 0 ? set.join(', ') : undefined;
};

function usageOfManifests(manifests: GenerationManifest[]): AgentUsage {
  const u = { agent: 'java-generation', inputTokens: 0, outputTokens: 0, reasoningTokens: 0, costUsd: 0, calls: 0 };
  for (const m of manifests) {
    u.inputTokens += m.usage.inputTokens;
    u.outputTokens += m.usage.outputTokens;
    u.reasoningTokens += m.usage.reasoningTokens;
    u.costUsd += m.usage.costUsd;
    u.calls += m.usage.calls;
  }
  u.costUsd = Math.round(u.costUsd * 1e6) / 1e6;
  // Which LLM the figures came from: the manifests of programs that called one.
  const called = manifests.filter((m) => m.usage.calls > 0);
  const provider = distinct(called.map((m) => m.llm?.provider));
  const model = distinct(called.map((m) => m.llm?.model));
  return { ...u, ...(provider ? { provider } : {}), ...(model ? { model } : {}) };
}

/** Everything the report shows, from what the other agents left in the workspace. */
async function collectReportInput(ws: MigrationWorkspace, opts: ReportOptions = {}): Promise<ReportInput> {
  const analyses = await loadAnalyses(ws);
  const failed: StoredAnalysis[] = [];
  for (const k of (await ws.list(LAYOUT.analysisFailures)).filter((x) => x.endsWith('.json'))) {
    const a = await getJson<StoredAnalysis>(ws, k);
    if (a) failed.push(a);
  }
  const manifests = await loadManifests(ws);
  const byProgram = new Map(manifests.map((m) => [m.program, m]));
  const validation = await getJson<ValidationReport>(ws, LAYOUT.validation);
  const graph = (await getJson<DependencyGraph>(ws, LAYOUT.dependenciesJson)) ?? mapDependencies(analyses);

  const programs = [
    ...analyses.map((a) => programRow(a, a.status === 'ok' ? 'ok' : 'partial', byProgram.get(programName(a))?.todos)),
    ...failed.filter((f) => !analyses.some((a) => programName(a) === programName(f))).map((a) => programRow(a, 'failed')),
  ];

  const generated: ReportInput['generated'] = validation
    ? validation.files.map((f) => ({ path: f.path, program: f.program, validated: f.compiled, ...(f.errors.length > 0 ? { errors: f.errors.map((e) => `${e.line}: ${e.message}`) } : {}) }))
    : [...new Map(manifests.flatMap((m) => m.files.map((f) => [f.path, { path: f.path, program: m.program, validated: false }] as const))).values()];

  const failures: ReportInput['failures'] = [];
  for (const a of failed) {
    failures.push({ item: programName(a), stage: 'analysis', message: `${counts(a.diagnostics).errors} error(s) in ${a.fileName}`, diagnostics: a.diagnostics.filter((d) => d.severity === 'error') });
  }
  if (manifests.length > 0) {
    for (const a of analyses) if (!byProgram.has(programName(a))) failures.push({ item: programName(a), stage: 'generation', message: 'no Java was generated' });
  }
  for (const m of manifests) {
    const errors = m.diagnostics.filter((d) => d.severity === 'error');
    if (errors.length > 0) failures.push({ item: m.program, stage: 'generation', message: `${errors.length} generation error(s)`, diagnostics: errors });
  }
  if (validation) {
    for (const f of validation.files.filter((x) => !x.compiled && x.errors.length > 0)) {
      failures.push({ item: f.path, stage: 'validation', message: `${f.errors.length} javac error(s)`, diagnostics: f.errors.map((e) => ({ line: e.line, column: 0, severity: 'error', message: e.message })) });
    }
    if (validation.status === 'unavailable') failures.push({ item: 'java', stage: 'validation', message: 'javac was not available: nothing was compiled' });
  }

  const derived: AgentUsage[] = [];
  if (manifests.length > 0) derived.push(usageOfManifests(manifests));
  if (validation) {
    const llm = validation.usage.calls > 0 ? validation.llm : undefined;
    derived.push({
      agent: 'java-validation',
      inputTokens: validation.usage.inputTokens,
      outputTokens: validation.usage.outputTokens,
      reasoningTokens: validation.usage.reasoningTokens,
      costUsd: validation.usage.costUsd,
      calls: validation.usage.calls,
      ...(llm ? { provider: llm.provider, model: llm.model } : {}),
    });
  }
  const given = new Map((opts.usage ?? []).map((u) => [u.agent, u]));
  const byAgent = [...derived.filter((u) => !given.has(u.agent)), ...given.values()];
  const sum = (f: (u: AgentUsage) => number) => byAgent.reduce((n, u) => n + f(u), 0);

  return {
    ...(opts.title ? { title: opts.title } : {}),
    ...(opts.runId ? { runId: opts.runId } : {}),
    ...(opts.generatedAt ? { generatedAt: opts.generatedAt } : {}),
    programs,
    dependencies: { mermaid: graph.mermaid, migrationOrder: graph.migrationOrder, cycles: graph.cycles, entryPoints: graph.entryPoints },
    generated,
    failures,
    usage: {
      inputTokens: sum((u) => u.inputTokens),
      outputTokens: sum((u) => u.outputTokens),
      reasoningTokens: sum((u) => u.reasoningTokens ?? 0),
      costUsd: Math.round(sum((u) => u.costUsd) * 1e6) / 1e6,
      byAgent,
    },
  };
}

/** report-writing: reports/migration-report.md and .html. */
export async function runReport(ws: MigrationWorkspace, opts: ReportOptions = {}): Promise<ReportResult> {
  const input = await collectReportInput(ws, opts);
  const { markdown, html } = renderReport(input);
  await ws.put(LAYOUT.reportHtml, html);
  await ws.put(LAYOUT.reportMarkdown, markdown);
  return { outputKey: LAYOUT.reportMarkdown, htmlKey: LAYOUT.reportHtml, input };
}
