/**
 * The least-privilege report: for each role of the template (and the functions that run as it), each action a
 * policy grants, whether the local cloud authorized it during a run (the ledger the authority wrote), and for a
 * grant never used the reason it stays. Grants of services the local cloud does not emulate are listed as not
 * exercised locally rather than as unused.
 */
import { actionMatches, arnMatches } from './match';
import type { LedgerEntries } from './authority';
import type { Statement } from './policy';
import { rolePoliciesOf, rolePrincipalsOf } from './roles';
import type { ResolvedTemplate } from '../types';

/** Services whose calls never reach the local cloud: their grants cannot be exercised here. */
const NOT_EMULATED = ['logs', 'xray', 'bedrock', 'secretsmanager', 'ssm', 'kms', 'cloudwatch'];

/** Reasons for grants a run does not use, by role name prefix (the logical id without CDK's hash) or `*`, then action. */
export type LedgerReasons = Readonly<Record<string, Readonly<Record<string, string>>>>;

type GrantStatus = 'used' | 'not emulated' | 'unused';

interface GrantRow {
  /** The action pattern the policy grants (`dynamodb:PutItem`, `s3:GetObject*`). */
  action: string;
  resources: readonly string[];
  status: GrantStatus;
  /** Distinct actions and resources the run was allowed under this grant. */
  used: { action: string; resources: number }[];
  reason?: string;
}

export interface RoleReport {
  role: string;
  /** Functions that run as the role (or `state machines` for the workflows' role). */
  principals: string[];
  grants: GrantRow[];
  /** Requests the role made that IAM refused (a missing grant, or a Deny). */
  denied: { action: string; resources: string[] }[];
}

function roleNameOf(logicalId: string): string {
  return logicalId.replace(/[0-9A-F]{8}$/, '');
}

function reasonFor(reasons: LedgerReasons, role: string, action: string): string | undefined {
  const prefix = roleNameOf(role);
  const own = Object.hasOwn(reasons, prefix) ? reasons[prefix] : {};
  const any = Object.hasOwn(reasons, '*') ? reasons['*'] : {};
  if (Object.hasOwn(own, action)) return own[action];
  if (Object.hasOwn(any, action)) return any[action];
  return undefined;
}

function allowedStatements(statements: readonly Statement[]): Statement[] {
  return statements.filter((s) => s.effect === 'Allow' && s.action !== undefined);
}

export function ledgerReport(template: ResolvedTemplate, ledger: LedgerEntries, reasons: LedgerReasons): RoleReport[] {
  const principals = rolePrincipalsOf(template);
  const reports: RoleReport[] = [];
  for (const role of rolePoliciesOf(template).values()) {
    const entries = Object.hasOwn(ledger, role.logicalId) ? ledger[role.logicalId] : {};
    const allowed = Object.entries(entries).filter(([action]) => !action.startsWith('DENIED '));
    const grants: GrantRow[] = [];
    for (const statement of role.policies.flatMap((p) => allowedStatements(p.document.statements))) {
      const resources = statement.resource ?? ['*'];
      for (const pattern of statement.action ?? []) {
        const used = allowed
          .filter(([action]) => actionMatches(pattern, action))
          .map(([action, arns]) => ({ action, resources: arns.filter((arn) => resources.some((r) => arnMatches(r, arn))).length }))
          .filter((u) => u.resources > 0);
        const service = pattern.split(':')[0];
        const status: GrantStatus = used.length > 0 ? 'used' : NOT_EMULATED.includes(service) ? 'not emulated' : 'unused';
        const reason = status === 'used' ? undefined : reasonFor(reasons, role.logicalId, pattern);
        grants.push({ action: pattern, resources, status, used, ...(reason !== undefined && { reason }) });
      }
    }
    const denied = Object.entries(entries)
      .filter(([action]) => action.startsWith('DENIED '))
      .map(([action, resources]) => ({ action: action.slice('DENIED '.length), resources }));
    const names = principals.filter((p) => p.roleArn === role.roleArn).map((p) => (p.kind === 'function' ? p.logicalId : `state machine ${p.name}`));
    reports.push({ role: role.logicalId, principals: names, grants, denied });
  }
  return reports.sort((a, b) => a.role.localeCompare(b.role));
}

/** Unused grants with no reason written: what `--check` refuses. */
export function unexplained(reports: readonly RoleReport[]): { role: string; action: string }[] {
  return reports.flatMap((r) => r.grants.filter((g) => g.status === 'unused' && g.reason === undefined).map((g) => ({ role: r.role, action: g.action })));
}

function shortArn(arn: string): string {
  return arn.replace(/^arn:aws:([^:]*):[^:]*:\d*:/, '$1:').replace(/^arn:aws:s3:::/, 's3:::');
}

export function ledgerMarkdown(reports: readonly RoleReport[]): string {
  const lines: string[] = [];
  for (const report of reports) {
    lines.push(`### ${roleNameOf(report.role)}`, '');
    lines.push(`Runs: ${report.principals.length > 0 ? report.principals.map((p) => roleNameOf(p)).join(', ') : 'no function of the template (state machines created by the workflows API, or API Gateway)'}`, '');
    lines.push('| grant | on | used during the tests | reason it stays |', '|---|---|---|---|');
    for (const g of report.grants) {
      const on = g.resources.map((r) => `\`${shortArn(r)}\``).join('<br>');
      const used =
        g.status === 'used'
          ? g.used.map((u) => `${u.action} (${u.resources} resource${u.resources === 1 ? '' : 's'})`).join('<br>')
          : g.status === 'not emulated'
            ? 'not exercised locally (service not emulated)'
            : '**never**';
      lines.push(`| \`${g.action}\` | ${on} | ${used} | ${g.reason ?? ''} |`);
    }
    if (report.denied.length > 0) {
      lines.push('', `Refused during the tests: ${report.denied.map((d) => `\`${d.action}\` on ${d.resources.map((r) => `\`${shortArn(r)}\``).join(', ')}`).join('; ')}`);
    }
    lines.push('');
  }
  return lines.join('\n');
}
