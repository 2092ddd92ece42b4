import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OfflineProvider } from '../lambdas/llm/index';
import { MemoryWorkspace, runMigrationPipeline, type Javac } from '../lambdas/migration/agents/index';

const CORPUS = join(dirname(fileURLToPath(import.meta.url)), '..', 'samples', 'cobol');

function corpusWorkspace(): { ws: MemoryWorkspace; lines: number } {
  const ws = new MemoryWorkspace();
  let lines = 0;
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) {
        if (name !== 'tools') walk(path);
        continue;
      }
      const bytes = readFileSync(path);
      if (/\.cbl$/i.test(name)) lines += bytes.toString('utf8').split('\n').length;
      ws.objects.set(`inputs/${relative(CORPUS, path).split('\\').join('/')}`, new Uint8Array(bytes));
    }
  };
  walk(CORPUS);
  return { ws, lines };
}

/**
 * The cobol-to-java pipeline's logic over the sample corpus, in process, with the offline provider: wall time
 * per stage and in total (one warm-up run first, so module loading and JIT are not counted). The validation
 * stage runs the machine's javac (a JVM start and a full compile dominate it); without javac it is skipped.
 */
export async function runMigrationBench(): Promise<Array<{ name: string; value: number; unit: string }>> {
  const hasJavac = spawnSync('javac', ['-version']).status === 0;
  const skipJavac: Javac = { version: () => Promise.resolve('none'), compile: () => Promise.resolve({ ok: true, diagnostics: [], durationMs: 0 }) };
  // Warm-up without javac: it warms the parser, generator and prompts, not the JVM (each compile starts one).
  await runMigrationPipeline(corpusWorkspace().ws, { llm: new OfflineProvider(), javac: skipJavac });

  const { ws, lines } = corpusWorkspace();
  const r = await runMigrationPipeline(ws, { llm: new OfflineProvider(), ...(hasJavac ? {} : { javac: skipJavac }) });
  const t = r.timingsMs;
  const usage = r.report.input.usage;
  return [
    { name: 'migration.discovery', value: t.discovery, unit: 'ms' },
    { name: 'migration.analysis (all inputs)', value: t.analysis, unit: 'ms' },
    { name: 'migration.analysis throughput', value: Math.round(lines / (t.analysis / 1000)), unit: 'lines/s' },
    { name: 'migration.dependencies', value: t.dependencies, unit: 'ms' },
    { name: 'migration.generation (offline LLM)', value: t.generation, unit: 'ms' },
    { name: hasJavac ? 'migration.validation (javac)' : 'migration.validation (no javac: skipped)', value: t.validation, unit: 'ms' },
    { name: 'migration.report', value: t.report, unit: 'ms' },
    { name: 'migration.total', value: t.total, unit: 'ms' },
    { name: 'migration.java files', value: r.validation.totals.files, unit: 'files' },
    { name: 'migration.llm tokens (offline)', value: usage.inputTokens + usage.outputTokens + (usage.reasoningTokens ?? 0), unit: 'tokens' },
    { name: 'migration.llm cost (offline price)', value: usage.costUsd, unit: 'USD' },
  ];
}
