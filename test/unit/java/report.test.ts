import { describe, expect, it } from 'vitest';
import { renderReport, type ReportInput } from '../../../lambdas/migration/report/index';

const input: ReportInput = {
  runId: 'run-1',
  generatedAt: '2025-01-01T00:00:00Z',
  programs: [
    { name: 'B<PROG>', fileName: 'b.cbl', status: 'partial', metrics: { totalLines: 10, codeLines: 8, commentLines: 2, paragraphs: 1, statements: 3, complexity: 2 }, errors: 1, warnings: 0 },
    { name: 'A', fileName: 'a.cbl', status: 'ok', metrics: { totalLines: 1200, codeLines: 1000, commentLines: 200, paragraphs: 9, statements: 90, complexity: 12 }, errors: 0, warnings: 1, todos: 3 },
  ],
  dependencies: { mermaid: 'graph LR\n  A --> B\n', migrationOrder: ['B<PROG>', 'A'], cycles: [], entryPoints: ['A'] },
  generated: [{ path: 'com/x/a/A.java', program: 'A', validated: true }],
  failures: [{ item: 'B<PROG>', stage: 'analysis', message: 'malformed', diagnostics: [{ line: 3, column: 8, severity: 'error', message: 'bad | pipe' }] }],
  usage: { inputTokens: 1234, outputTokens: 567, reasoningTokens: 89, costUsd: 0.0123, byAgent: [{ agent: 'java-generation', inputTokens: 1234, outputTokens: 567, reasoningTokens: 89, costUsd: 0.0123, calls: 2 }] },
};

describe('Function: renderReport', () => {
  it('should render Markdown with metrics, diagram, order, files, failures and cost', () => {
    const { markdown } = renderReport(input);
    expect(markdown).toContain('| A | a.cbl | ok | 1,200 | 1,000 | 200 | 9 | 90 | 12 | 0 | 1 | 3 |');
    expect(markdown).toContain('```mermaid\ngraph LR\n  A --> B\n```');
    expect(markdown).toContain('1. B<PROG>\n2. A');
    expect(markdown).toContain('### B<PROG> (analysis): malformed');
    expect(markdown).toContain('3:8 error: bad | pipe');
    expect(markdown).toContain('| Total | - | 1,234 | 567 | 89 | $0.0123 |');
  });

  it('should escape HTML and be deterministic', () => {
    const a = renderReport(input);
    expect(a.html).toContain('<td>B&lt;PROG&gt;</td>');
    expect(a.html).not.toContain('<PROG>');
    expect(a.html).toContain('<pre class="mermaid">graph LR\n  A --&gt; B\n</pre>');
    expect(renderReport(input)).toEqual(a);
  });
});
