import { CfnElement, Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

export interface Acknowledgement {
  /** The finding as cdk-nag names it, e.g. `AwsSolutions::AwsSolutions-IAM5[Resource::*]`. */
  id: string;
  reason: string;
}

const nag = (rule: string) => `AwsSolutions::AwsSolutions-${rule}`;

/**
 * Every cdk-nag finding the stack accepts, each with its reason. Anything not listed fails the nag test.
 * Findings that name a logical id are built from the construct, so a rename cannot silently widen them.
 */
export function stackAcknowledgements(stack: Stack, ids: { tableLogicalIds: string[]; bucketLogicalId: string; socketApiLogicalId: string }): Acknowledgement[] {
  const acks: Acknowledgement[] = [
    {
      id: nag('IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]'),
      reason: 'The account-level role API Gateway uses to write execution logs; AWS-managed and log-only.',
    },
    { id: nag('IAM5[Resource::*]'), reason: 'X-Ray PutTraceSegments/PutTelemetryRecords (tracing) do not support resource-level permissions.' },
    { id: nag('L1'), reason: 'Functions pin nodejs22.x on purpose: the runtime the project is built and tested on (issue 2).' },
    { id: nag('COG4'), reason: 'The API uses a Lambda token authorizer (tenant bearer tokens), not Cognito user pools, by design.' },
    { id: nag('APIG4'), reason: 'Only GET /health (liveness) and CORS preflight OPTIONS are unauthenticated; every other route has the token authorizer.' },
    { id: nag('APIG2'), reason: 'Request bodies are validated in the handlers with zod, which reports every problem with its JSON path (API Gateway validators cannot).' },
    { id: nag('APIG3'), reason: 'WAF is an account-level deployment choice (docs/deploy.md); the API has stage throttling and token auth.' },
    { id: nag('IAM5[Action::s3:GetObject*]'), reason: 'CDK grant action group (GetObject, GetObjectVersion, GetObjectTagging…) on the workspace bucket only.' },
    { id: nag('IAM5[Action::s3:GetBucket*]'), reason: 'CDK grant action group on the workspace bucket only.' },
    { id: nag('IAM5[Action::s3:List*]'), reason: 'CDK grant action group on the workspace bucket only.' },
    { id: nag('IAM5[Action::s3:DeleteObject*]'), reason: 'CDK grant action group on the workspace bucket only; needed to clean up run prefixes.' },
    { id: nag('IAM5[Action::s3:Abort*]'), reason: 'Aborting multipart uploads of workspace objects.' },
    { id: nag(`IAM5[Resource::<${ids.bucketLogicalId}.Arn>/runs/*]`), reason: 'Run workspaces are keyed by run id, unknown at deploy time; functions get the runs/ area only and each confines itself to runs/<runId>/.' },
    { id: nag(`IAM5[Resource::<${ids.bucketLogicalId}.Arn>/workflows/*]`), reason: 'Workflow bodies too large for a DynamoDB item, keyed by tenant, workflow and content hash (unknown at deploy time).' },
    {
      id: nag(`IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${ids.socketApiLogicalId}>/v1/*/@connections/*]`),
      reason: 'Connection ids are minted by API Gateway at connect time; the grant is limited to this API and stage.',
    },
  ];
  for (const table of ids.tableLogicalIds) {
    acks.push({ id: nag(`IAM5[Resource::<${table}.Arn>/index/*]`), reason: 'Queries on the global secondary indexes of a table bound to the function.' });
  }
  return acks;
}

export function logicalIdOf(construct: IConstruct): string {
  const child = construct.node.defaultChild ?? construct;
  if (!CfnElement.isCfnElement(child)) throw new Error(`${construct.node.path} has no CloudFormation resource to name`);
  return Stack.of(construct).getLogicalId(child);
}

export function acknowledge(scope: IConstruct, acks: Acknowledgement[]): void {
  for (const ack of acks) Validations.of(scope).acknowledge(ack);
}
