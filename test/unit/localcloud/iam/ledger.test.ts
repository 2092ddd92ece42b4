import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../../../bin/app';
import { IamAuthority } from '../../../../localstack/cloud/iam/authority';
import { ledgerMarkdown, ledgerReport, unexplained } from '../../../../localstack/cloud/iam/ledger';
import { resolveTemplate, type RawTemplate } from '../../../../localstack/cloud/template';
import type { ResolvedTemplate } from '../../../../localstack/cloud/types';

let template: ResolvedTemplate;

beforeAll(() => {
  const { stack } = buildApp({ nag: false, context: { 'aws:cdk:bundling-stacks': [] } });
  template = resolveTemplate({ directory: '/tmp', stackName: stack.stackName, template: Template.fromStack(stack).toJSON() as RawTemplate, assetDirs: new Map() });
});

function fn(prefix: string) {
  const found = [...template.resources.values()].find((r) => r.type === 'AWS::Lambda::Function' && new RegExp(`^${prefix}[0-9A-F]{8}$`).test(r.logicalId));
  if (!found) throw new Error(prefix);
  return found;
}

describe('ledgerReport', () => {
  it('should mark a grant used by what the authority allowed, and the others unused unless their service is not emulated', () => {
    const iam = new IamAuthority(template, { enforce: true });
    const admin = fn('AdminApi');
    const tokensTable = [...template.resources.values()].find((r) => r.logicalId.startsWith('TablesTokens'))!;
    const caller = iam.callerForRole(admin.properties.Role as string);
    expect(iam.authorize(caller, [{ action: 'dynamodb:PutItem', resource: tokensTable.attributes.Arn }])).toEqual({ allowed: true });
    iam.authorize(caller, [{ action: 'sqs:SendMessage', resource: 'arn:aws:sqs:eu-west-1:000000000000:q' }]);

    const reports = ledgerReport(template, iam.ledgerEntries(), { AdminApiRole: { 'dynamodb:Scan': 'kept for the test' } });
    const report = reports.find((r) => r.role.startsWith('AdminApiRole'))!;
    expect(report.principals).toEqual([admin.logicalId]);
    const row = (action: string) => report.grants.find((g) => g.action === action)!;
    expect(row('dynamodb:PutItem')).toMatchObject({ status: 'used', used: [{ action: 'dynamodb:PutItem', resources: 1 }] });
    expect(row('dynamodb:Scan')).toMatchObject({ status: 'unused', reason: 'kept for the test' });
    expect(row('dynamodb:DeleteItem')).toMatchObject({ status: 'unused' });
    expect(row('logs:PutLogEvents').status).toBe('not emulated');
    expect(report.denied).toEqual([{ action: 'sqs:SendMessage', resources: ['arn:aws:sqs:eu-west-1:000000000000:q'] }]);
    expect(unexplained(reports)).toContainEqual({ role: report.role, action: 'dynamodb:DeleteItem' });
    expect(unexplained(reports)).not.toContainEqual({ role: report.role, action: 'dynamodb:Scan' });

    const markdown = ledgerMarkdown(reports);
    expect(markdown).toContain('### AdminApiRole');
    expect(markdown).toMatch(/\| `dynamodb:DeleteItem` \| .* \| \*\*never\*\* \| {2}\|/);
    expect(markdown).toContain('Refused during the tests: `sqs:SendMessage`');
  });
});
