/**
 * `agentplane` CLI. Finds its target like the tests do: AGENTPLANE_REST_URL + AGENTPLANE_TOKEN, or the local
 * cloud's `.agentplane/local.json`.
 */
import { Command } from 'commander';
import { readFileSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { hashToken, newToken, tokenId, TENANT_PATTERN } from '../lambdas/core/auth/tokens';
import { parse as parseYaml } from 'yaml';
import { validateWorkflow } from '../lambdas/core/workflow/validate';
import { compileWorkflow } from '../lambdas/core/workflow/compile';
import { aslToMermaid, workflowToMermaid } from '../lambdas/core/workflow/mermaid';
import type { ProblemDetail } from '../lambdas/core/errors';
import type { WorkflowSummary } from '../lambdas/aws/workflow-store';

interface Target {
  restUrl: string;
  token: string;
}

/** The API's error body (lambdas/edge/http/api.ts); whatever answers in between may send something else. */
interface ErrorBody {
  error?: { code?: string; message?: string; details?: { problems?: ProblemDetail[] } };
}

/** A page of GET /workflows. */
interface WorkflowPage {
  workflows: WorkflowSummary[];
  cursor?: string;
}

function loadTarget(): Target {
  if (process.env.AGENTPLANE_REST_URL) return { restUrl: process.env.AGENTPLANE_REST_URL, token: process.env.AGENTPLANE_TOKEN ?? '' };
  const file = resolve(process.env.AGENTPLANE_LOCAL_JSON ?? '.agentplane/local.json');
  if (!existsSync(file)) throw new Error(`No target: set AGENTPLANE_REST_URL and AGENTPLANE_TOKEN, or start the local cloud (npm start) to write ${file}`);
  const config = JSON.parse(readFileSync(file, 'utf8')) as Target;
  return { restUrl: config.restUrl, token: process.env.AGENTPLANE_TOKEN ?? config.token };
}

/** One API call; resolves to the parsed JSON body (undefined when empty), rejects with the API's error. */
async function api(method: string, path: string, body?: unknown, extraHeaders: Record<string, string> = {}): Promise<unknown> {
  const target = loadTarget();
  const response = await fetch(`${target.restUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${target.token}`, ...(body ? { 'content-type': 'application/json' } : {}), ...extraHeaders },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  const parsed: unknown = text ? JSON.parse(text) : undefined;
  if (!response.ok) {
    const failure = parsed as ErrorBody | undefined;
    const problems = failure?.error?.details?.problems?.map((p) => `\n  ${p.path}: ${p.message}`).join('') ?? '';
    throw new Error(`${response.status} ${failure?.error?.code ?? ''}: ${failure?.error?.message ?? text}${problems}`);
  }
  return parsed;
}

const program = new Command().name('agentplane').description('Agentplane control plane CLI');

const tokens = program.command('tokens').description('API tokens (admin)');
tokens
  .command('create')
  .description('create a token for a tenant; the token is printed once')
  .requiredOption('--tenant <tenant>', 'tenant the token belongs to')
  .option('--admin', 'an admin token (can create tokens and set quotas)', false)
  .option('--name <name>', 'a label for the token')
  .option('--direct-table <table>', 'bootstrap: write straight to this DynamoDB tokens table with your AWS credentials (no API call)')
  .action(async (opts: { tenant: string; admin: boolean; name?: string; directTable?: string }) => {
    if (!TENANT_PATTERN.test(opts.tenant)) throw new Error('tenant must be 1-63 lowercase letters, digits or dashes');
    if (opts.directTable) {
      const token = newToken();
      const hash = hashToken(token);
      const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({}));
      await ddb.send(
        new PutCommand({
          TableName: opts.directTable,
          Item: { tokenHash: hash, tokenId: tokenId(hash), tenant: opts.tenant, admin: opts.admin, name: opts.name, createdAt: new Date().toISOString(), createdBy: 'cli-bootstrap' },
          ConditionExpression: 'attribute_not_exists(tokenHash)',
        }),
      );
      process.stdout.write(`${JSON.stringify({ token, tenant: opts.tenant, admin: opts.admin }, null, 2)}\n`);
      return;
    }
    const created = await api('POST', '/tokens', { tenant: opts.tenant, admin: opts.admin, name: opts.name });
    process.stdout.write(`${JSON.stringify(created, null, 2)}\n`);
  });

/** A workflow file, YAML or JSON (JSON is YAML, but JSON's own parser gives better error positions). */
function readWorkflowFile(file: string): unknown {
  const text = readFileSync(resolve(file), 'utf8');
  if (/\.json$/i.test(file)) {
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new Error(`${file} is not valid JSON: ${(error as Error).message}`, { cause: error });
    }
  }
  try {
    return parseYaml(text);
  } catch (error) {
    throw new Error(`${file} is not valid YAML: ${(error as Error).message}`, { cause: error });
  }
}

/** Offline compilation only needs placeholders for the engine's functions. */
const OFFLINE_FUNCTIONS = { gate: 'arn:aws:lambda:us-east-1:000000000000:function:agentplane-engine-gate', reporter: 'arn:aws:lambda:us-east-1:000000000000:function:agentplane-engine-reporter' };

const printProblems = (label: string, problems: Array<{ path: string; code: string; message: string }>) => {
  for (const p of problems) process.stdout.write(`${label} ${p.path} [${p.code}] ${p.message}\n`);
};

const workflows = program.command('workflows').description('workflow definitions (YAML or JSON)');
workflows
  .command('validate')
  .argument('<file>', 'workflow definition, .yaml/.yml or .json')
  .description('validate and compile offline; prints every problem with its JSON path, exits 1 on errors')
  .option('--strict', 'treat warnings about capabilities as errors (needs --skills)', false)
  .option('--skills <skills>', 'comma-separated skills the registry serves (unchecked when absent)')
  .option('--json', 'print the result as JSON', false)
  .action((file: string, opts: { strict: boolean; skills?: string; json: boolean }) => {
    const input = readWorkflowFile(file);
    const knownSkills = opts.skills ? new Set(opts.skills.split(',').map((s) => s.trim()).filter(Boolean)) : undefined;
    const result = validateWorkflow(input, { strict: opts.strict, knownSkills });
    const definition = result.ok ? result.definition : undefined;
    const compiled = definition ? compileWorkflow(definition, { functions: OFFLINE_FUNCTIONS }) : undefined;
    const limitErrors = compiled?.report.warnings.filter((w) => w.code === 'history.limit' || w.code === 'definition.size') ?? [];
    const errors = [...result.errors, ...limitErrors];
    const warnings = [...result.warnings, ...(compiled?.report.warnings.filter((w) => !limitErrors.includes(w)) ?? [])];
    if (opts.json) {
      process.stdout.write(`${JSON.stringify({ valid: errors.length === 0, errors, warnings, ...(compiled ? { report: compiled.report } : {}) }, null, 2)}\n`);
    } else {
      printProblems('error  ', errors);
      printProblems('warning', warnings);
      if (errors.length === 0 && definition && compiled) {
        const r = compiled.report;
        process.stdout.write(
          `${file}: valid — ${definition.steps.length} steps, critical path ${r.criticalPathCompiled} (DAG ${r.criticalPathDag}), ` +
            `${r.addedSyncPoints} added sync points, worst-case history ${r.maxHistoryEvents} events, ${r.definitionBytes} bytes\n`,
        );
      } else {
        process.stdout.write(`${file}: ${errors.length} error${errors.length === 1 ? '' : 's'}, ${warnings.length} warning${warnings.length === 1 ? '' : 's'}\n`);
      }
    }
    if (errors.length > 0) process.exitCode = 1;
  });
workflows
  .command('graph')
  .argument('<file>', 'workflow definition, .yaml/.yml or .json')
  .description('print Mermaid flowcharts of the DAG and of the compiled state machine')
  .option('--only <which>', '"dag" or "machine"')
  .action((file: string, opts: { only?: string }) => {
    const result = validateWorkflow(readWorkflowFile(file));
    if (!result.ok || !result.definition) {
      printProblems('error  ', result.errors);
      process.exitCode = 1;
      return;
    }
    const parts: string[] = [];
    if (opts.only !== 'machine') parts.push(`%% ${result.definition.id}: workflow DAG\n${workflowToMermaid(result.definition)}`);
    if (opts.only !== 'dag') {
      const { asl } = compileWorkflow(result.definition, { functions: OFFLINE_FUNCTIONS });
      parts.push(`%% ${result.definition.id}: compiled state machine\n${aslToMermaid(asl as never)}`);
    }
    process.stdout.write(`${parts.join('\n\n')}\n`);
  });
workflows
  .command('register')
  .argument('<file>', 'workflow definition, .yaml/.yml or .json')
  .description('register the workflow (a new version if its id exists) through the API')
  .option('--strict', 'refuse capabilities no registered agent serves', false)
  .option('--idempotency-key <key>', 'retry-safe registration')
  .action(async (file: string, opts: { strict: boolean; idempotencyKey?: string }) => {
    const definition = readWorkflowFile(file);
    const created = await api('POST', `/workflows${opts.strict ? '?strict=true' : ''}`, definition, opts.idempotencyKey ? { 'idempotency-key': opts.idempotencyKey } : {});
    process.stdout.write(`${JSON.stringify(created, null, 2)}\n`);
  });
workflows
  .command('list')
  .description("the tenant's workflows, latest version each")
  .action(async () => {
    let cursor: string | undefined;
    do {
      const page = (await api('GET', `/workflows${cursor ? `?cursor=${encodeURIComponent(cursor)}` : ''}`)) as WorkflowPage;
      for (const w of page.workflows) process.stdout.write(`${w.id}\tv${w.latestVersion}\t${w.steps} steps\t${w.updatedAt}\n`);
      cursor = page.cursor;
    } while (cursor);
  });
workflows
  .command('get')
  .argument('<id>', 'workflow id')
  .option('--version <n>', 'a version (default: the latest)')
  .action(async (id: string, opts: { version?: string }) => {
    const got = await api('GET', `/workflows/${encodeURIComponent(id)}${opts.version ? `?version=${encodeURIComponent(opts.version)}` : ''}`);
    process.stdout.write(`${JSON.stringify(got, null, 2)}\n`);
  });

program
  .command('health')
  .description('check that the API answers')
  .action(async () => {
    const { restUrl } = loadTarget();
    const response = await fetch(`${restUrl}/health`);
    process.stdout.write(`${response.status} ${await response.text()}\n`);
  });

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`agentplane: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
