import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from '../lib/cdk-nag';
import { AgentplaneStack } from '../lib/agentplane-stack';

export const STACK_NAME = 'Agentplane';

export interface BuildAppOptions {
  outdir?: string;
  /** cdk-nag runs on every synth; tests turn it on explicitly and assert no unsuppressed finding. */
  nag?: boolean;
  context?: Record<string, unknown>;
}

/** Builds the CDK app; used by `cdk synth/deploy` (bin/agentplane.ts), the local cloud and the tests. */
export function buildApp(options: BuildAppOptions = {}): { app: App; stack: AgentplaneStack } {
  const app = new App({
    outdir: options.outdir,
    context: { 'aws:cdk:enable-asset-metadata': true, ...options.context },
  });
  const stack = new AgentplaneStack(app, STACK_NAME, {
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
    retainData: app.node.tryGetContext('agentplane:retainData') !== 'false',
    description: 'Agentplane: serverless control plane for pipelines of LLM agents',
  });
  if (options.nag !== false) Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { app, stack };
}
