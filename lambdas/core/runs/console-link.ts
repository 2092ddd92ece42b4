/**
 * The Step Functions console page of an execution, from its ARN alone (the partition names the console's domain,
 * the ARN's region the console's region). Undefined for anything that is not an execution ARN.
 */
const CONSOLE_DOMAINS: Record<string, string> = {
  aws: 'console.aws.amazon.com',
  'aws-cn': 'console.amazonaws.cn',
  'aws-us-gov': 'console.amazonaws-us-gov.com',
};

export function executionConsoleUrl(executionArn: string): string | undefined {
  const [prefix, partition, service, region] = executionArn.split(':');
  const domain = partition ? CONSOLE_DOMAINS[partition] : undefined;
  if (prefix !== 'arn' || service !== 'states' || !region || !domain || !executionArn.includes(':execution:')) return undefined;
  return `https://${region}.${domain}/states/home?region=${region}#/v2/executions/details/${encodeURIComponent(executionArn)}`;
}
