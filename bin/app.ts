import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from '../lib/cdk-nag';
import { AgentplaneStack } from '../lib/agentplane-stack';
import { deploymentNames, NAME_CONTEXT } from '../lib/deployment';
import { LOCAL_CONTEXT } from '../lib/llm-settings';

export interface BuildAppOptions {
  outdir?: string;
  /** cdk-nag runs on every synth; tests turn it on explicitly and assert no unsuppressed finding. */
  nag?: boolean;
  context?: Record<string, unknown>;
  /** Synthesized for the local cloud: the LLM agents default to the offline provider (lib/llm-settings.ts). */
  local?: boolean;
}

/** Builds the CDK app; used by `cdk synth/deploy` (bin/agentplane.ts), the local cloud and the tests. */
export function buildApp(options: BuildAppOptions = {}): { app: App; stack: AgentplaneStack } {
  const app = new App({
    outdir: options.outdir,
    context: {
      'aws:cdk:enable-asset-metadata': true,
      // Server access logs delivered under a bucket policy, not the legacy log-delivery ACL (cfn-lint W3045).
      '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true,
      ...(options.local ? { [LOCAL_CONTEXT]: 'true' } : {}),
      ...options.context,
    },
  });
  const names = deploymentNames(app.node.tryGetContext(NAME_CONTEXT) as string | undefined);
  const stack = new AgentplaneStack(app, names.stackName, {
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
    retainData: app.node.tryGetContext('agentplane:retainData') !== 'false',
    description: 'Agentplane: serverless control plane for pipelines of LLM agents',
  });
  if (options.nag !== false) Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { app, stack };
}
