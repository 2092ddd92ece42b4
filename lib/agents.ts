import { Duration, Size, Tags } from 'aws-cdk-lib';
import { LayerVersion } from 'aws-cdk-lib/aws-lambda';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { AgentplaneFunction } from './agentplane-function';
import { AGENT_TAG, bindAgentRuntime, type RegistryTables } from './registry';
import type { AgentRegistrationInput } from '../lambdas/core/registry/agent';
import { HEALTH_CHECK_TAG } from '../lambdas/agent-health-check/checks';
import { migrationAgentRegistrations } from '../lambdas/migration/agents/registrations';
import type { MigrationSkill } from '../lambdas/migration/agents/agents';
import { grantLlm, llmEnvironment, llmSettings, llmSettingsOf, LOCAL_CONTEXT, type LlmSettings } from './llm-settings';

/** The migration agents' Lambda sizing (docs/migration.md): javac wants memory (CPU) and scratch space. */
const MIGRATION_AGENTS: Record<MigrationSkill, { memorySize: number; timeout: Duration; llm: boolean; ephemeralMiB?: number }> = {
  'cobol-discovery': { memorySize: 1024, timeout: Duration.minutes(5), llm: false },
  'cobol-analysis': { memorySize: 1024, timeout: Duration.minutes(5), llm: false },
  'dependency-mapping': { memorySize: 1024, timeout: Duration.minutes(5), llm: false },
  'java-generation': { memorySize: 1024, timeout: Duration.minutes(15), llm: true },
  'java-validation': { memorySize: 3008, timeout: Duration.minutes(15), llm: true, ephemeralMiB: 1024 },
  'report-writing': { memorySize: 512, timeout: Duration.minutes(2), llm: false },
};

;

const DIAGNOSTICS_LLM_PREFIX = 'AGENTPLANE_DIAGNOSTICS_LLM_';

/**
 * The diagnostics agent's LLM (its `llmPrompt` knob), from the synthesizing shell's `AGENTPLANE_DIAGNOSTICS_LLM_*`
 * (the names of `AGENTPLANE_LLM_*`, docs/llm.md, under another prefix), the way the circuit tuning comes from
 * `AGENTPLANE_CIRCUIT_*`. Apart from the migration agents' settings, so a test can point it at a stub endpoint
 * without moving them. Undefined when none is set: the function's environment is unchanged and it calls the
 * offline provider.
 */
export function diagnosticsLlmSettings(env: Record<string, string | undefined> = process.env): LlmSettings | undefined {
  const mapped: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (key.startsWith(DIAGNOSTICS_LLM_PREFIX) && value) mapped[`AGENTPLANE_LLM_${key.slice(DIAGNOSTICS_LLM_PREFIX.length)}`] = value;
  }
  if (Object.keys(mapped).length === 0) return undefined;
  // Read as in the local cloud, so a provider left unset means offline (never a default Bedrock model).
  return llmSettings((key) => (key === LOCAL_CONTEXT ? 'true' : undefined), mapped);
}

export interface BuiltInAgentsProps {
  workspace: IBucket;
  /** The agent runtime's tables (registry, events, idempotency). */
  runtime: RegistryTables;
}

/**
 * The built-in agent Lambdas, each on the agent runtime, tagged as an agent, and described by the
 * registration the registry's custom resource stores at deploy. Each writes only under its run's prefix.
 */
export class BuiltInAgents extends Construct {
  readonly diagnosticsDelay: AgentplaneFunction;
  readonly migration: Record<MigrationSkill, AgentplaneFunction>;
  /** What the registry seeds at deploy (function ARNs are deploy-time tokens). */
  readonly registrations: AgentRegistrationInput[];

  constructor(scope: Construct, id: string, props: BuiltInAgentsProps) {
    super(scope, id);
    const diagnosticsLlm = diagnosticsLlmSettings();
    this.diagnosticsDelay = new AgentplaneFunction(this, 'DiagnosticsDelay', {
      handlerDir: 'diagnostics-delay',
      description: 'Built-in agent diagnostics.delay: waits, writes its items to outputs, fails items matching failPattern',
      timeout: Duration.minutes(15),
      ...(diagnosticsLlm ? { environment: llmEnvironment(diagnosticsLlm) } : {}),
    });
    if (diagnosticsLlm) grantLlm(this.diagnosticsDelay, diagnosticsLlm);
    // The runtime confines writes to runs/<runId>/; IAM confines the agent to the runs/ area of the bucket.
    props.workspace.grantReadWrite(this.diagnosticsDelay, 'runs/*');
    this.diagnosticsDelay.bindValue('WORKSPACE_BUCKET', props.workspace.bucketName);
    bindAgentRuntime(this.diagnosticsDelay, props.runtime);
    Tags.of(this.diagnosticsDelay).add(AGENT_TAG.key, AGENT_TAG.value);

    const llm = llmSettingsOf(this);
    this.migration = {} as Record<MigrationSkill, AgentplaneFunction>;
    for (const [skill, sizing] of Object.entries(MIGRATION_AGENTS) as Array<[MigrationSkill, (typeof MIGRATION_AGENTS)[MigrationSkill]]>) {
      const fn = new AgentplaneFunction(this, pascal(skill), {
        handlerDir: `migration/functions/agent-${skill}`,
        description: `Built-in agent ${skill} (COBOL to Java migration)`,
        memorySize: sizing.memorySize,
        timeout: sizing.timeout,
        ...(sizing.ephemeralMiB ? { ephemeralStorageSize: Size.mebibytes(sizing.ephemeralMiB) } : {}),
        environment: sizing.llm ? llmEnvironment(llm) : {},
      });
      if (sizing.llm) grantLlm(fn, llm);
      props.workspace.grantReadWrite(fn, 'runs/*');
      fn.bindValue('WORKSPACE_BUCKET', props.workspace.bucketName);
      bindAgentRuntime(fn, props.runtime);
      Tags.of(fn).add(AGENT_TAG.key, AGENT_TAG.value);
      this.migration[skill] = fn;
    }
    // javac in AWS comes from a JDK layer (lambdas/migration/functions/agent-java-validation/jdk-layer): pass its ARN at deploy.
    const jdkLayerArn = this.node.tryGetContext('agentplane:jdkLayerArn') as string | undefined;
    if (jdkLayerArn) {
      this.migration['java-validation'].addLayers(LayerVersion.fromLayerVersionArn(this, 'JdkLayer', jdkLayerArn));
      this.migration['java-validation'].bindValue('JAVAC', '/opt/jdk/bin/javac');
    }

    this.registrations = [
      ...migrationAgentRegistrations(
        Object.fromEntries(Object.entries(this.migration).map(([skill, fn]) => [skill, fn.functionArn])) as Record<MigrationSkill, string>,
        { llmMaxConcurrency: 10 },
      ),
      {
        id: 'diagnostics.delay',
        name: 'Diagnostics: delay',
        version: '1.0.0',
        description:
          'Waits config.delayMs per item, writes each item to outputs/<step>/, fails items matching config.failPattern; with config.llmPrompt, calls its LLM once per item first. For exercising workflows.',
        author: 'agentplane',
        functionArn: this.diagnosticsDelay.functionArn,
        capabilities: [{ skill: 'diagnostics.delay', priority: 50 }],
        tags: ['builtin', 'diagnostics', HEALTH_CHECK_TAG],
        configSchema: {
          type: 'object',
          properties: {
            delayMs: { type: 'integer', minimum: 0, maximum: 900000 },
            failPattern: { type: 'string' },
            retryablePattern: { type: 'string' },
            tokensPerItem: { type: 'integer', minimum: 0 },
            writeKey: { type: 'string' },
            probeConcurrency: { type: 'string' },
            llmPrompt: { type: 'string', maxLength: 8000 },
            llmMaxTokens: { type: 'integer', minimum: 1, maximum: 4096 },
          },
        },
      },
    ];
  }
}

function pascal(skill: string): string {
  return skill.replace(/(^|-)([a-z])/g, (_m, _d, c: string) => c.toUpperCase());
}
