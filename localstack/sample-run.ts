/**
 * The sample migration `npm start` shows a newcomer: registers the cobol-to-java workflow, uploads the sample
 * COBOL corpus through the public API, starts the run, draws its progress live from the WebSocket stream, then
 * downloads the outputs and the report and prints where they are. Public API only, like any client.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { ProgressClient } from '../lambdas/client/progress-client';
import { applyEvent, emptyRunView, isFinal, type RunView } from '../lambdas/client/run-view';
import { ProgressBars } from '../lambdas/client/progress-bars';

export interface SampleTarget {
  restUrl: string;
  wsUrl: string;
  token: string;
}

const ROOT = resolve(import.meta.dirname, '..');
const SAMPLE_CORPUS = join(ROOT, 'samples', 'cobol');
const SAMPLE_WORKFLOW = join(ROOT, 'samples', 'workflows', 'cobol-to-java.json');

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'tools' ? [] : filesUnder(path);
    return [path];
  });
}

/** The fields of the public API's answers the sample reads (the API documents more). */
interface ApiError {
  error?: { code?: string; message?: string };
}
interface RegisteredWorkflow {
  id: string;
  version: number;
}
interface CreatedRun {
  runId: string;
}
interface IssuedUploads {
  uploads: Array<{ key: string; url: string }>;
}
interface WorkspaceListing {
  objects: Array<{ key: string; url: string }>;
}

/** Calls the public API; the caller reads the answer as the shape the API documents for the route. */
async function call(target: SampleTarget, method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${target.restUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${target.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const parsed: unknown = text ? JSON.parse(text) : undefined;
  if (!response.ok) {
    const error = (parsed as ApiError | undefined)?.error;
    throw new Error(`${method} ${path}: ${response.status} ${error?.code ?? ''} ${error?.message ?? text}`);
  }
  return parsed;
}

export async function runSample(target: SampleTarget, outDir: string, out: NodeJS.WriteStream = process.stdout): Promise<RunView> {
  const definition: unknown = JSON.parse(readFileSync(SAMPLE_WORKFLOW, 'utf8'));
  const registered = (await call(target, 'POST', '/workflows', definition)) as RegisteredWorkflow;
  out.write(`Registered workflow ${registered.id} v${registered.version}\n`);

  const files = filesUnder(SAMPLE_CORPUS).sort();
  const keys = files.map((f) => relative(SAMPLE_CORPUS, f).split('\\').join('/'));
  const created = (await call(target, 'POST', '/runs', { workflowId: registered.id, version: registered.version, start: false })) as CreatedRun;
  const runId = created.runId;
  const { uploads } = (await call(target, 'POST', `/runs/${runId}/uploads`, { files: keys.map((key) => ({ key })) })) as IssuedUploads;
  for (const upload of uploads) {
    const file = files[keys.indexOf(upload.key.replace(/^inputs\//, ''))];
    const put = await fetch(upload.url, { method: 'PUT', body: readFileSync(file) });
    if (!put.ok) throw new Error(`upload of ${upload.key} failed: ${put.status}`);
  }
  out.write(`Run ${runId}: ${files.length} inputs uploaded, starting\n`);

  const view = emptyRunView(runId);
  const bars = new ProgressBars(out);
  const client = new ProgressClient({ url: target.wsUrl, token: target.token });
  const finished = new Promise<void>((resolveDone, reject) => {
    const subscription = client.subscribe(runId, {
      afterSeq: 0,
      onEvent: (event) => {
        applyEvent(view, event as never);
        bars.update(view);
        if (isFinal(view.status)) resolveDone();
      },
      onError: reject,
    });
    subscription.ready.catch(reject);
  });
  await call(target, 'POST', `/runs/${runId}/commands`, { type: 'start' });
  await finished;
  bars.stop();
  await client.close();

  const runDir = join(outDir, runId);
  for (const area of ['outputs', 'reports']) {
    const { objects } = (await call(target, 'GET', `/runs/${runId}/workspace?area=${area}`)) as WorkspaceListing;
    for (const object of objects) {
      const response = await fetch(object.url);
      const local = join(runDir, object.key.replace(`runs/${runId}/`, ''));
      mkdirSync(dirname(local), { recursive: true });
      writeFileSync(local, Buffer.from(await response.arrayBuffer()));
    }
  }
  const summary = view.steps.map((s) => `  ${s.stepId.padEnd(14)} ${s.status.padEnd(10)} ${s.succeeded}/${s.totalItems} ok, ${s.failed} failed`);
  out.write(
    [
      '',
      `Run ${runId} ${view.status}: ${view.tokens} tokens, $${view.costUsd.toFixed(4)}${view.providers?.length ? ` (LLM: ${view.providers.join(', ')})` : ''}`,
      ...summary,
      `Generated Java:   ${join(runDir, 'outputs')}`,
      `Migration report: ${join(runDir, 'reports', 'migration-report.html')}`,
      '',
    ].join('\n'),
  );
  return view;
}
