import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSample, type SampleTarget } from '../localstack/sample-run';

const quiet = Object.assign(Object.create(process.stdout), { write: () => true, isTTY: false }) as NodeJS.WriteStream;

/** The sample migration's wall time through the local cloud: register, upload, run every step, download. */
export async function runSampleBench(cloud: SampleTarget): Promise<Array<{ name: string; value: number; unit: string }>> {
  const outDir = mkdtempSync(join(tmpdir(), 'agentplane-sample-bench-'));
  try {
    const started = performance.now();
    const view = await runSample(cloud, outDir, quiet);
    const wall = performance.now() - started;
    return [
      { name: `sample.cobol-to-java wall time (${view.status})`, value: wall / 1000, unit: 's' },
      { name: 'sample.cobol-to-java items', value: view.steps.reduce((n, s) => n + s.totalItems, 0), unit: 'items' },
      { name: 'sample.cobol-to-java tokens (offline provider)', value: view.tokens, unit: 'tokens' },
    ];
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}
