import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { AgentplaneFunction } from './agentplane-function';
import { acknowledge } from './nag-suppressions';

/**
 * Answering `.waitForTaskToken` tasks. The Service Authorization Reference lists no resource type for
 * states:SendTaskSuccess, SendTaskFailure (and SendTaskHeartbeat): they support no resource-level permission, so
 * a grant scoped to the state machines is not what IAM documents honouring, and `*` is the only resource that
 * is. What limits them is the task token itself: an unguessable capability Step Functions hands to the task
 * alone (and that the engine stores only on the run it belongs to).
 */
export function grantTaskResponse(fn: AgentplaneFunction): void {
  // No SendTaskHeartbeat: nothing sends heartbeats (yet).
  fn.addToRolePolicy(new PolicyStatement({ actions: ['states:SendTaskSuccess', 'states:SendTaskFailure'], resources: ['*'] }));
  acknowledge(fn.executionRole, [
    {
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason: 'states:SendTask* support no resource-level permission (Service Authorization Reference); the unguessable task token limits them. Also X-Ray tracing, which has no resource scope.',
    },
  ]);
}
