import { beforeAll, describe, expect, it } from 'vitest';
import type { DependencyGraph } from '../../../lambdas/migration/cobol/index';
import type { Inventory } from '../../../lambdas/migration/cobol/inventory';
import { OfflineProvider } from '../../../lambdas/llm/index';
import {
  CobolAnalysisError,
  LAYOUT,
  runMigrationPipeline,
  type GenerationManifest,
  type Javac,
  type MemoryWorkspace,
  type PipelineResult,
  type StoredAnalysis,
  type ValidationReport,
} from '../../../lambdas/migration/agents/index';
import { corpusWorkspace, javacAvailable } from './support';

/** Stands in for javac where there is none, so the rest of the pipeline is still checked. */
const noCompile: Javac = { version: async () => 'fake javac', compile: async () => ({ ok: true, diagnostics: [], durationMs: 0 }) };

describe('Function: runMigrationPipeline (sample corpus, offline provider)', () => {
  let ws: MemoryWorkspace;
  let result: PipelineResult;
  /** A JSON object of the workspace; each caller casts it to the product type it was written as. */
  const json = (key: string): unknown => JSON.parse(ws.text(key)!);

  beforeAll(async () => {
    ws = corpusWorkspace();
    result = await runMigrationPipeline(ws, { llm: new OfflineProvider(), runId: 'r-test', generatedAt: '2026-01-01T00:00:00Z', ...(javacAvailable ? {} : { javac: noCompile }) });
  }, 120_000);

  it('should inventory programs, copybooks and JCL', () => {
    const inventory = json(LAYOUT.inventory) as Inventory;
    expect(inventory.totals).toMatchObject({ files: 24, programs: 15, copybooks: 8, jcl: 1, unknown: 0 });
    expect(inventory.files.find((f) => f.key === 'inputs/EODRECON.cbl')).toMatchObject({ kind: 'program', name: 'EODRECON', format: 'fixed' });
  });

  it('should analyze every program but the malformed one, and skip copybooks and JCL', () => {
    expect(result.analyzed).toHaveLength(14);
    expect(result.skipped).toEqual(expect.arrayContaining(['outputs/analyze-skipped/copybooks/ACCTREC.cpy.json', 'outputs/analyze-skipped/jcl/EODBATCH.jcl.json']));
    expect(result.skipped).toHaveLength(9);
    const eod = json('outputs/analyze/EODRECON.json') as StoredAnalysis;
    expect(eod.status).toBe('ok');
    expect(eod.sourceKey).toBe('inputs/EODRECON.cbl');
    // COPY resolved against the run's own copybooks (SQLCA is implicit and absent).
    expect(eod.copybooks.filter((c) => !c.resolved)).toEqual([]);
    expect((json('outputs/analyze/ACCTRPT.json') as StoredAnalysis).copybooks.filter((c) => !c.resolved).map((c) => c.name)).toEqual(['SQLCA']);
  });

  it('should fail the malformed program with its located diagnostics and keep its partial analysis', () => {
    expect(result.failed.map((f) => f.key)).toEqual(['inputs/BADPROG.cbl']);
    const error = result.failed[0].error;
    expect(error).toBeInstanceOf(CobolAnalysisError);
    expect(error.name).toBe('CobolAnalysisError');
    expect(error.message).toContain('14:8 error: missing or misspelt DATA DIVISION header before WORKING-STORAGE SECTION');
    expect(error.diagnostics.filter((d) => d.severity === 'error').length).toBe(15);
    expect(ws.text('outputs/analyze/BADPROG.json')).toBeUndefined();
    expect((json('reports/analysis-failures/BADPROG.json') as StoredAnalysis).status).toBe('partial');
  });

  it('should map dependencies with a migration order, as JSON and Mermaid', () => {
    const graph = json(LAYOUT.dependenciesJson) as DependencyGraph;
    expect(graph.migrationOrder).toHaveLength(14);
    expect(graph.migrationOrder.indexOf('INTCALC')).toBeLessThan(graph.migrationOrder.indexOf('INTACCR'));
    expect(graph.entryPoints).toContain('BATCHDRV');
    expect(ws.text(LAYOUT.dependenciesMermaid)).toMatch(/^graph LR\n/);
    expect(ws.text(LAYOUT.dependenciesMermaid)).toBe(graph.mermaid);
  });

  it('should generate Java per program under the package path, with LLM usage in the manifest', () => {
    expect(result.generated).toHaveLength(14);
    const m = json('outputs/generate/EODRECON.json') as GenerationManifest;
    expect(m.mainClass).toBe('com.example.legacy.eodrecon.Eodrecon');
    expect(m.files.map((f) => f.key)).toContain('outputs/java/com/example/legacy/eodrecon/Eodrecon.java');
    expect(ws.text('outputs/java/com/example/legacy/runtime/Cobol.java')).toContain('package com.example.legacy.runtime;');
    expect(m.llm?.model).toBe('offline-deterministic-1');
    // The 3,900-line program is sent in many prompts, each inside the context.
    expect(m.llm!.stats.chunks).toBeGreaterThan(10);
    expect(m.llm!.stats.maxPromptTokens).toBeLessThan(32_000 - 4_096);
    expect(m.llm!.stats.translated).toBe(m.llm!.stats.methods);
    expect(m.usage.totalTokens).toBeGreaterThan(10_000);
    // The offline provider calls nobody: it costs nothing.
    expect(m.usage.costUsd).toBe(0);
    expect(m.llm?.provider).toBe('offline');
  });

  it.skipIf(!javacAvailable)('should compile every generated file with javac --release 17', () => {
    const v = json(LAYOUT.validation) as ValidationReport;
    expect(v.status).toBe('passed');
    expect(v.javac).toMatch(/^javac \d+/);
    expect(v.totals.failed).toBe(0);
    expect(v.totals.files).toBe(v.files.length);
    expect(v.files.length).toBeGreaterThan(100);
    expect(v.files.every((f) => f.compiled)).toBe(true);
  });

  it('should write the report with metrics, diagram, order, files, the failure and the cost', () => {
    const md = ws.text(LAYOUT.reportMarkdown)!;
    expect(md).toContain('_Run r-test, generated 2026-01-01T00:00:00Z_');
    expect(md).toMatch(/\| EODRECON \| EODRECON\.cbl \| ok \| 3,906 \|/);
    expect(md).toMatch(/\| BADPROG \| BADPROG\.cbl \| failed \|/);
    expect(md).toContain('### BADPROG (analysis): 15 error(s) in BADPROG.cbl');
    expect(md).toContain('14:8 error: missing or misspelt DATA DIVISION header');
    expect(md).toContain('```mermaid\ngraph LR');
    expect(md).toContain('## Migration order');
    expect(md).toContain('com/example/legacy/eodrecon/Eodrecon.java');
    const usage = result.report.input.usage;
    expect(usage.inputTokens).toBeGreaterThan(0);
    expect(usage.costUsd).toBe(0);
    expect(usage.byAgent![0]).toMatchObject({ agent: 'java-generation', provider: 'offline', model: 'offline-deterministic-1', costUsd: 0 });
    expect(md).toContain(`| java-generation | ${String(usage.byAgent![0].calls)}`);
    // The report says whose figures these are: cost 0 from the offline provider.
    expect(md).toContain('- LLM: offline (offline-deterministic-1)');
    expect(md).toMatch(/\| java-generation \| [\d,]+ \| [\d,]+ \| [\d,]+ \| 0 \| \$0\.0000 \| offline \(offline-deterministic-1\) \|/);
    expect(ws.text(LAYOUT.reportHtml)).toContain('<pre class="mermaid">graph LR');
  });
});
