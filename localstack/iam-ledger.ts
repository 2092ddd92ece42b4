/**
 * `npm run iam:ledger`: the least-privilege table. Reads the ledger the local cloud wrote during a test run
 * (`.agentplane/test-<port base>/iam-ledger.json`) and the template that cloud ran, and writes
 * docs/iam-ledger.md: per role, each grant, what the run used of it, and for each grant never used the reason it
 * stays (from localstack/iam-ledger-reasons.json).
 *   --data-dir DIR   the test cloud's data directory (default .agentplane/test-18420, or AGENTPLANE_TEST_PORT_BASE)
 *   --out FILE       where to write the table (default docs/iam-ledger.md)
 *   --check          exit 1 when a grant is unused with no reason written, or a request was refused
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { readAssembly, resolveTemplate } from './cloud/template';
import { ledgerMarkdown, ledgerReport, unexplained, type LedgerReasons } from './cloud/iam/ledger';
import type { LedgerEntries } from './cloud/iam/authority';

const ROOT = resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string', default: join(ROOT, '.agentplane', `test-${process.env.AGENTPLANE_TEST_PORT_BASE ?? '18420'}`) },
    out: { type: 'string', default: join(ROOT, 'docs', 'iam-ledger.md') },
    check: { type: 'boolean', default: false },
  },
});

const dataDir = resolve(values['data-dir']);
const ledgerFile = join(dataDir, 'iam-ledger.json');
if (!existsSync(ledgerFile)) {
  process.stderr.write(`No ledger at ${ledgerFile}: run the integration and e2e tests first (npm run test:cloud).\n`);
  process.exit(2);
}
const ledger = JSON.parse(readFileSync(ledgerFile, 'utf8')) as LedgerEntries;
const template = resolveTemplate(readAssembly(join(dataDir, 'cdk.out'), 'Agentplane'));
const reasons = JSON.parse(readFileSync(join(ROOT, 'localstack', 'iam-ledger-reasons.json'), 'utf8')) as LedgerReasons;
const reports = ledgerReport(template, ledger, reasons);
const missing = unexplained(reports);
const refused = reports.filter((r) => r.denied.length > 0);

const header = [
  '# IAM least-privilege ledger',
  '',
  'Produced by `npm run iam:ledger` from the ledger the local cloud wrote while `npm run test:cloud` ran with IAM',
  'enforced (every function and state machine acting as its role). Each row is one action a role’s policies grant.',
  '“Used” lists what the tests were allowed under it; a grant never used shows the reason it stays when one is',
  'written (localstack/iam-ledger-reasons.json); **never** with no reason is a grant to remove or explain',
  '(`npm run iam:ledger -- --check` fails on one). Grants of services the local cloud does not emulate (CloudWatch Logs, X-Ray,',
  'Bedrock, Secrets Manager, SSM, KMS) are listed as not exercised locally.',
  '',
  `Roles: ${reports.length}. Grants: ${reports.reduce((n, r) => n + r.grants.length, 0)}, used: ${reports.reduce((n, r) => n + r.grants.filter((g) => g.status === 'used').length, 0)}, not emulated: ${reports.reduce((n, r) => n + r.grants.filter((g) => g.status === 'not emulated').length, 0)}, unused with a reason: ${reports.reduce((n, r) => n + r.grants.filter((g) => g.status === 'unused' && g.reason !== undefined).length, 0)}, unexplained: ${missing.length}.`,
  '',
].join('\n');
writeFileSync(values.out, `${header}\n${ledgerMarkdown(reports)}`);
process.stdout.write(`wrote ${values.out}: ${reports.length} roles, ${missing.length} unexplained unused grants, ${refused.length} roles with refused requests\n`);
for (const m of missing) process.stdout.write(`  unused, no reason: ${m.role} ${m.action}\n`);
for (const r of refused) for (const d of r.denied) process.stdout.write(`  refused: ${r.role} ${d.action} on ${d.resources.join(', ')}\n`);
if (values.check && (missing.length > 0 || refused.length > 0)) process.exit(1);
