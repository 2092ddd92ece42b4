/**
 * `npm run bench`: measures the local cloud and the pure engines, prints a table and writes
 * bench/results/<timestamp>.json and bench/results/latest.json. Figures, never assertions.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { startLocalCloud, type LocalCloud } from '../localstack/cloud/local-cloud';
import { consoleLogger } from '../localstack/cloud/console-logger';
import { measureRoundTrips } from './round-trips';

export interface BenchRow {
  name: string;
  value: number;
  unit: string;
}

const rows: BenchRow[] = [];
const add = (list: BenchRow[]) => {
  for (const row of list) {
    rows.push(row);
    process.stdout.write(`${row.name.padEnd(48)} ${String(Number(row.value.toFixed(3))).padStart(12)} ${row.unit}\n`);
  }
};

/** A bench module's entry point: its rows, or a promise of them. */
type BenchEntry = (...args: unknown[]) => BenchRow[] | Promise<BenchRow[]>;

/** Bench modules other parts of the project contribute; each is optional until its part exists. */
async function optionalBench(file: string, exportName: string, ...args: unknown[]): Promise<void> {
  const path = resolve(import.meta.dirname, file);
  if (!existsSync(path)) return;
  const mod = (await import(path)) as Record<string, unknown>;
  const entry = mod[exportName];
  if (typeof entry !== 'function') return;
  add(await (entry as BenchEntry)(...args));
}

async function main() {
  const workDir = mkdtempSync(join(tmpdir(), 'agentplane-bench-'));
  let cloud: LocalCloud | undefined;
  try {
    const synthStart = performance.now();
    const { buildApp } = await import('../bin/app');
    const { app } = buildApp({ outdir: join(workDir, 'cdk.out'), nag: false, local: true });
    app.synth();
    add([{ name: 'local.synth', value: performance.now() - synthStart, unit: 'ms' }]);

    const startAt = performance.now();
    cloud = await startLocalCloud({
      assemblyDir: join(workDir, 'cdk.out'),
      stackName: 'Agentplane',
      dataDir: join(workDir, 'data'),
      portBase: Number(process.env.AGENTPLANE_BENCH_PORT_BASE ?? 38420),
      fresh: true,
      logger: consoleLogger('error'),
    });
    add([{ name: 'local.start (after synth)', value: performance.now() - startAt, unit: 'ms' }]);
    add(await measureRoundTrips(cloud.config, Number(process.env.BENCH_ROUND_TRIPS ?? 300)));
    // Cloud benches, each optional until its part exists; all run against the same fresh local cloud.
    await optionalBench('workflows-cloud-bench.ts', 'runWorkflowsCloudBench', cloud.config);
    await optionalBench('agents-bench.ts', 'runAgentsBench', cloud.config);
    await optionalBench('fallback-bench.ts', 'runFallbackBench', cloud.config);
    await optionalBench('progress-bench.ts', 'runProgressBench', cloud.config);
    await optionalBench('runs-bench.ts', 'runRunsBench', cloud.config);
    await optionalBench('sample-bench.ts', 'runSampleBench', cloud.config);
  } finally {
    await cloud?.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
  await optionalBench('workflow-bench.ts', 'runWorkflowBench');
  await optionalBench('registry-bench.ts', 'runRegistryBench');
  await optionalBench('cobol-bench.ts', 'runCobolBench');
  await optionalBench('migration-bench.ts', 'runMigrationBench');

  const result = {
    at: new Date().toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
    rows,
  };
  const dir = resolve(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const stamped = join(dir, `${result.at.replace(/[:.]/g, '-')}.json`);
  writeFileSync(stamped, JSON.stringify(result, null, 2) + '\n');
  writeFileSync(join(dir, 'latest.json'), JSON.stringify(result, null, 2) + '\n');
  process.stdout.write(`\nwrote ${stamped}\n`);
  process.exit(0);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? String(error)) : String(error)}\n`);
  process.exit(1);
});
