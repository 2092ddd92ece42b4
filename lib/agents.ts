import { Duration } from 'aws-cdk-lib';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { AgentplaneFunction } from './agentplane-function';

/** Agents the registry routes to are tagged so the state machine role can be limited to them. */
export const AGENT_TAG = { key: 'agentplane:agent', value: 'true' } as const;

export interface BuiltInAgentsProps {
  workspace: IBucket;
}

/** The built-in agent Lambdas. Each writes only under its run's prefix of the workspace bucket. */
export class BuiltInAgents extends Construct {
  readonly diagnosticsDelay: AgentplaneFunction;

  constructor(scope: Construct, id: string, props: BuiltInAgentsProps) {
    super(scope, id);
    this.diagnosticsDelay = new AgentplaneFunction(this, 'DiagnosticsDelay', {
      handlerDir: 'diagnostics-delay',
      description: 'Built-in agent diagnostics.delay: waits, writes its items to outputs, fails items matching failPattern',
      timeout: Duration.minutes(15),
    });
    // The runtime confines writes to runs/<runId>/; IAM confines the agent to the runs/ area of the bucket.
    props.workspace.grantReadWrite(this.diagnosticsDelay, 'runs/*');
    this.diagnosticsDelay.bindValue('WORKSPACE_BUCKET', props.workspace.bucketName);
  }
}
