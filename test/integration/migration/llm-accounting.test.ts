/**
 * Tokens and cost come from the provider's reported usage, all the way through the platform: the sample run on a
 * local cloud whose agents are configured (at synth, as an operator would deploy them) for an OpenAI-compatible
 * endpoint — here a fake one on loopback that records what it reported. The events and GET /runs/{id} must show
 * exactly those tokens and the cost the price table gives them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { startLocalCloud, type LocalCloud } from '../../../localstack/cloud/local-cloud';
import { consoleLogger } from '../../../localstack/cloud/console-logger';
import { runSample } from '../../../localstack/sample-run';
import type { RunView } from '../../../lambdas/client/run-view';
import type { EventsPageBody } from '../../support/api';

const PRICES = { input: 2, output: 10, reasoning: 30 }; // USD per 1M tokens
const quiet = Object.assign(Object.create(process.stdout), { write: () => true, isTTY: false }) as NodeJS.WriteStream;

describe('LLM accounting through the platform (fake OpenAI-compatible endpoint)', () => {
  const workDir = mkdtempSync(join(tmpdir(), 'agentplane-llm-'));
  const reported = { calls: 0, prompt: 0, completion: 0, reasoning: 0 };
  // Unset when beforeAll failed before starting them.
  let fake: Server | undefined;
  let cloud: LocalCloud | undefined;
  let view: RunView;

  beforeAll(async () => {
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += String(c)));
      req.on('end', () => {
        const request = JSON.parse(body) as { model: string; messages: Array<{ content: string }> };
        // Usage depends on the prompt, as a real model's would; the answer is not Java, so the generator keeps
        // its deterministic bodies and the output still compiles.
        const prompt = Math.ceil(JSON.stringify(request.messages).length / 4);
        const completion = 40;
        const reasoning = 8;
        reported.calls++;
        reported.prompt += prompt;
        reported.completion += completion;
        reported.reasoning += reasoning;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            id: `chatcmpl-${reported.calls}`,
            object: 'chat.completion',
            model: request.model,
            choices: [{ index: 0, message: { role: 'assistant', content: 'no translation' }, finish_reason: 'stop' }],
            usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion, completion_tokens_details: { reasoning_tokens: reasoning } },
          }),
        );
      });
    });
    fake = server;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => { r(); }));
    const port = (server.address() as AddressInfo).port;

    const llmEnv = {
      AGENTPLANE_LLM_PROVIDER: 'openai',
      AGENTPLANE_LLM_BASE_URL: `http://127.0.0.1:${port}/v1`,
      AGENTPLANE_LLM_MODEL: 'fake-model',
      AGENTPLANE_LLM_PRICES: JSON.stringify({ 'fake-model': PRICES }),
    };
    const saved = { ...process.env };
    Object.assign(process.env, llmEnv);
    try {
      const { buildApp } = await import('../../../bin/app');
      buildApp({ outdir: join(workDir, 'cdk.out'), nag: false, local: true }).app.synth();
    } finally {
      for (const key of Object.keys(llmEnv)) if (!(key in saved)) Reflect.deleteProperty(process.env, key);
    }
    cloud = await startLocalCloud({
      assemblyDir: join(workDir, 'cdk.out'),
      stackName: 'Agentplane',
      dataDir: join(workDir, 'data'),
      portBase: Number(process.env.AGENTPLANE_TEST_PORT_BASE ?? 18420) + 500,
      fresh: true,
      logger: consoleLogger('error'),
    });
    view = await runSample(cloud.config, join(workDir, 'out'), quiet);
  }, 900_000);

  afterAll(async () => {
    await cloud?.stop();
    await new Promise<void>((r) => {
      if (fake) fake.close(() => { r(); });
      else r();
    });
    rmSync(workDir, { recursive: true, force: true });
  });

  it('should run the sample through the fake provider', () => {
    expect(view.status).toBe('SUCCEEDED');
    expect(reported.calls).toBeGreaterThan(0);
  });

  it('should show in the events and in GET /runs/{id} exactly the tokens and cost the provider reported', async () => {
    const { restUrl, token } = cloud!.config;
    const events = (await (await fetch(`${restUrl}/runs/${view.runId}/events?afterSeq=0&limit=1000`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
      events: EventsPageBody['events'];
    };
    const completed = events.events.filter((e) => e.event === 'ItemCompleted');
    const tokens = completed.reduce((n, e) => n + e.payload.metrics.tokensUsed, 0);
    const cost = completed.reduce((n, e) => n + e.payload.metrics.costUsd, 0);
    const expectedTokens = reported.prompt + reported.completion;
    const expectedCost = (reported.prompt * PRICES.input + (reported.completion - reported.reasoning) * PRICES.output + reported.reasoning * PRICES.reasoning) / 1e6;
    expect(tokens).toBe(expectedTokens);
    expect(cost).toBeCloseTo(expectedCost, 6);
    const run = (await (await fetch(`${restUrl}/runs/${view.runId}`, { headers: { authorization: `Bearer ${token}` } })).json()) as { summary: { totalTokens: number; totalCostUsd: number } };
    expect(run.summary.totalTokens).toBe(expectedTokens);
    expect(run.summary.totalCostUsd).toBeCloseTo(expectedCost, 6);
  });
});
