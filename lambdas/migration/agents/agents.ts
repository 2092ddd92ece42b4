/**
 * The six migration agents as agent-runtime item functions. The handlers only wrap these in `defineAgent`;
 * everything here runs against the runtime's ItemContext, so tests drive it with a fake context.
 */
import { z } from 'zod';
import type { AgentItem } from '../../core/agent-runtime/input';
import type { ItemContext, ItemOutput } from '../../core/agent-runtime/runtime';
import { createProvider, llmConfigFromEnv, type LlmConfig, type ProviderDeps } from '../../llm/config';
import type { LlmProvider, UsageTotals } from '../../llm/types';
import { runAnalysis } from './analysis';
import { runDependencyMapping } from './dependencies';
import { runDiscovery } from './discovery';
import { DEFAULT_JAVA_PACKAGE, runGeneration } from './generation';
import type { Javac } from './javac';
import { runReport } from './report';
import { runValidation } from './validation';
import { workspaceFromClient, type MigrationWorkspace } from './workspace';

export const MIGRATION_SKILLS = ['cobol-discovery', 'cobol-analysis', 'dependency-mapping', 'java-generation', 'java-validation', 'report-writing'] as const;
export type MigrationSkill = (typeof MIGRATION_SKILLS)[number];

export interface AgentDeps {
  /** The LLM, built once per execution environment (its limiter must be shared by every item it serves). */
  llm?: () => Promise<LlmProvider>;
  javac?: Javac;
  /** The workspace for an item; default: the runtime's confined client. */
  workspace?: (ctx: ItemContext) => MigrationWorkspace;
  now?: () => number;
}

let shared: Promise<LlmProvider> | undefined;

/** The environment's provider (AGENTPLANE_LLM_*), created on first use and reused by later invocations. */
function providerFromEnv(config: LlmConfig = llmConfigFromEnv(), deps: ProviderDeps = {}): Promise<LlmProvider> {
  shared ??= createProvider(config, deps).catch((e: unknown) => {
    shared = undefined;
    throw e;
  });
  return shared;
}

const workspaceOf = (ctx: ItemContext, deps: AgentDeps): MigrationWorkspace => (deps.workspace ? deps.workspace(ctx) : workspaceFromClient(ctx.workspace));

/** Which LLM the spend came from, for the item's events and the run's summaries; nothing when it made no call. */
const attributed = (usage: UsageTotals, llm: LlmProvider | undefined) => (llm && usage.calls > 0 ? { provider: llm.name, model: llm.model } : {});

const usageOutput = (outputKey: string, usage: UsageTotals, llm: LlmProvider | undefined): ItemOutput => ({
  outputKey,
  tokensUsed: usage.totalTokens,
  costUsd: usage.costUsd,
  ...attributed(usage, llm),
});

/** Progress with the spend so far, so an item that fails after some LLM calls still reports (and counts) them. */
const progressOf = (ctx: ItemContext, llm: LlmProvider | undefined) => (fraction: number, usage: UsageTotals) =>
  ctx.progress(fraction, { tokensUsed: usage.totalTokens, costUsd: usage.costUsd, ...attributed(usage, llm) });

const AnalysisConfig = z.object({ failOnErrors: z.boolean().default(true) }).loose();

const GenerationConfig = z
  .object({
    javaPackage: z.string().min(1).max(200).optional(),
    useLlm: z.boolean().default(true),
    contextTokens: z.number().int().min(1_000).optional(),
    maxOutputTokens: z.number().int().min(64).optional(),
  })
  .loose();

const ValidationConfig = z
  .object({
    useLlm: z.boolean().default(true),
    repairAttempts: z.number().int().min(0).max(5).default(2),
    requireJavac: z.boolean().default(true),
    maxOutputTokens: z.number().int().min(64).optional(),
  })
  .loose();

const UsageEntry = z.object({
  agent: z.string(),
  provider: z.string().optional(),
  model: z.string().optional(),
  inputTokens: z.number().nonnegative(),
  outputTokens: z.number().nonnegative(),
  reasoningTokens: z.number().nonnegative().optional(),
  costUsd: z.number().nonnegative(),
  calls: z.number().int().nonnegative().optional(),
});

const ReportConfig = z.object({ title: z.string().max(200).optional(), usage: z.array(UsageEntry).max(100).optional() }).loose();

export async function discoveryItem(_item: AgentItem, ctx: ItemContext, deps: AgentDeps = {}): Promise<ItemOutput> {
  const r = await runDiscovery(workspaceOf(ctx, deps));
  return { outputKey: r.outputKey };
}

export async function analysisItem(item: AgentItem, ctx: ItemContext, deps: AgentDeps = {}): Promise<ItemOutput> {
  const config = AnalysisConfig.parse(ctx.input.config);
  const r = await runAnalysis(workspaceOf(ctx, deps), item.key, { failOn: config.failOnErrors ? 'error' : 'never' });
  return { outputKey: r.outputKey };
}

export async function dependencyItem(_item: AgentItem, ctx: ItemContext, deps: AgentDeps = {}): Promise<ItemOutput> {
  const r = await runDependencyMapping(workspaceOf(ctx, deps));
  return { outputKey: r.outputKey };
}

export async function generationItem(item: AgentItem, ctx: ItemContext, deps: AgentDeps = {}): Promise<ItemOutput> {
  const config = GenerationConfig.parse(ctx.input.config);
  const param = ctx.input.parameters.javaPackage;
  const javaPackage = config.javaPackage ?? (typeof param === 'string' && param ? param : DEFAULT_JAVA_PACKAGE);
  const llm = config.useLlm ? await (deps.llm ?? providerFromEnv)() : undefined;
  const r = await runGeneration(workspaceOf(ctx, deps), item.key, {
    javaPackage,
    ...(llm ? { llm } : {}),
    ...(config.contextTokens !== undefined ? { contextTokens: config.contextTokens } : {}),
    ...(config.maxOutputTokens !== undefined ? { maxOutputTokens: config.maxOutputTokens } : {}),
    onProgress: progressOf(ctx, llm),
  });
  return r.status === 'generated' ? usageOutput(r.outputKey, r.manifest.usage, llm) : { outputKey: r.outputKey, tokensUsed: 0, costUsd: 0 };
}

export async function validationItem(_item: AgentItem, ctx: ItemContext, deps: AgentDeps = {}): Promise<ItemOutput> {
  const config = ValidationConfig.parse(ctx.input.config);
  const llm = config.useLlm && config.repairAttempts > 0 ? await (deps.llm ?? providerFromEnv)() : undefined;
  const r = await runValidation(workspaceOf(ctx, deps), {
    ...(deps.javac ? { javac: deps.javac } : {}),
    ...(llm ? { llm } : {}),
    repairAttempts: config.repairAttempts,
    requireJavac: config.requireJavac,
    ...(config.maxOutputTokens !== undefined ? { maxOutputTokens: config.maxOutputTokens } : {}),
    onProgress: progressOf(ctx, llm),
  });
  return usageOutput(r.outputKey, r.report.usage, llm);
}

export async function reportItem(_item: AgentItem, ctx: ItemContext, deps: AgentDeps = {}): Promise<ItemOutput> {
  const config = ReportConfig.parse(ctx.input.config);
  const r = await runReport(workspaceOf(ctx, deps), {
    runId: ctx.input.runId,
    generatedAt: new Date((deps.now ?? Date.now)()).toISOString(),
    ...(config.title ? { title: config.title } : {}),
    ...(config.usage ? { usage: config.usage } : {}),
  });
  return { outputKey: r.outputKey };
}
