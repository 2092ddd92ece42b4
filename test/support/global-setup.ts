/**
 * Starts the local cloud once for the whole integration/e2e run, exactly as a user does (`npm start`), on ports and
 * a data directory of its own so a developer's running cloud is untouched. Skipped when AGENTPLANE_LOCAL_JSON or
 * AGENTPLANE_REST_URL names an existing target (LocalStack, AWS, or a cloud already running).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { startLlmStub, type LlmStub } from './llm-stub';

const ROOT = resolve(import.meta.dirname, '../..');
let child: ChildProcess | undefined;
let stub: LlmStub | undefined;

export default async function setup() {
  if (process.env.AGENTPLANE_LOCAL_JSON || process.env.AGENTPLANE_REST_URL) return;
  const portBase = process.env.AGENTPLANE_TEST_PORT_BASE ?? '18420';
  // One data directory per port base, so suites run side by side on other ports never share a cloud's files.
  const dataDir = join(ROOT, '.agentplane', `test-${portBase}`);
  // An OpenAI-compatible endpoint the diagnostics agent calls when a step sets its `llmPrompt` (the other agents
  // keep the offline provider); tests find it through AGENTPLANE_TEST_LLM_STUB and read its call count there.
  stub = await startLlmStub();
  child = spawn(process.execPath, [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), 'localstack/start.ts', '--fresh', '--quiet', '--no-sample', '--data-dir', dataDir, '--port-base', portBase], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    // A short circuit cool-down (synthesized into the functions), so the registry tests see it end in seconds.
    env: { AGENTPLANE_CIRCUIT_COOL_DOWN_MS: '20000', ...stub.diagnosticsEnv, ...process.env },
  });
  let output = '';
  await new Promise<void>((resolveReady, reject) => {
    const deadline = setTimeout(() => { reject(new Error(`local cloud not ready within 180 s:\n${output}`)); }, 180_000);
    const onData = (d: Buffer) => {
      output = (output + String(d)).slice(-20_000);
      if (output.includes('AGENTPLANE_READY')) {
        clearTimeout(deadline);
        resolveReady();
      }
    };
    child!.stdout!.on('data', onData);
    child!.stderr!.on('data', onData);
    child!.once('exit', (code) => {
      clearTimeout(deadline);
      reject(new Error(`local cloud exited with code ${String(code)}:\n${output}`));
    });
  });
  child.removeAllListeners('exit');
  process.env.AGENTPLANE_LOCAL_JSON = join(dataDir, 'local.json');
  process.env.AGENTPLANE_TEST_LLM_STUB = stub.url;
  return async () => {
    if (child && child.exitCode === null) {
      await new Promise<void>((done) => {
        child!.once('exit', () => { done(); });
        child!.kill('SIGTERM');
        setTimeout(() => child?.kill('SIGKILL'), 10_000).unref();
      });
    }
    await stub?.close();
  };
}
