export interface ReportProgram {
  name: string;
  fileName: string;
  status: 'ok' | 'partial' | 'failed';
  metrics: { totalLines: number; codeLines: number; commentLines: number; paragraphs: number; statements: number; complexity: number };
  errors: number;
  warnings: number;
  /** Statements the generator left as TODO comments. */
  todos?: number;
}

export interface ReportInput {
  title?: string;
  runId?: string;
  /** ISO timestamp supplied by the caller, so rendering stays deterministic. */
  generatedAt?: string;
  programs: ReportProgram[];
  dependencies: { mermaid: string; migrationOrder: string[]; cycles: string[][]; entryPoints: string[] };
  generated: Array<{ path: string; program: string; validated: boolean; errors?: string[] }>;
  failures: Array<{ item: string; stage: string; message: string; diagnostics?: Array<{ line: number; column: number; severity: string; message: string }> }>;
  usage: {
    inputTokens: number;
    outputTokens: number;
    reasoningTokens?: number;
    costUsd: number;
    /** `provider`/`model`: which LLM the agent's spend came from (several, comma-separated; absent: none named). */
    byAgent?: Array<{ agent: string; inputTokens: number; outputTokens: number; reasoningTokens?: number; costUsd: number; calls?: number; provider?: string; model?: string }>;
  };
}

const usd = (n: number): string => `$${n.toFixed(4)}`;
const int = (n: number): string => n.toLocaleString('en-US');

function mdCell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function html(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

interface Table {
  head: string[];
  rows: string[][];
  align?: Array<'left' | 'right'>;
}

function mdTable(t: Table): string[] {
  const sep = t.head.map((_, i) => (t.align?.[i] === 'right' ? '---:' : '---'));
  return [`| ${t.head.map(mdCell).join(' | ')} |`, `| ${sep.join(' | ')} |`, ...t.rows.map((r) => `| ${r.map(mdCell).join(' | ')} |`)];
}

function htmlTable(t: Table): string {
  const cell = (tag: string, v: string, i: number): string => `<${tag}${t.align?.[i] === 'right' ? ' class="num"' : ''}>${html(v)}</${tag}>`;
  return [
    '<table>',
    `<thead><tr>${t.head.map((h, i) => cell('th', h, i)).join('')}</tr></thead>`,
    `<tbody>${t.rows.map((r) => `<tr>${r.map((v, i) => cell('td', v, i)).join('')}</tr>`).join('')}</tbody>`,
    '</table>',
  ].join('\n');
}

interface Sections {
  programs: Table;
  generated: Table;
  failures: Array<{ title: string; lines: string[] }>;
  usage: Table;
  summary: string[];
}

/** `offline (offline-deterministic-1)`: where an agent's spend came from; `-` when it named no provider. */
function llmOf(u: { provider?: string; model?: string }): string {
  if (!u.provider) return '-';
  return u.model ? `${u.provider} (${u.model})` : u.provider;
}

function sections(input: ReportInput): Sections {
  const programs = [...input.programs].sort((a, b) => a.name.localeCompare(b.name));
  const totalLines = programs.reduce((n, p) => n + p.metrics.totalLines, 0);
  const validated = input.generated.filter((g) => g.validated).length;
  const u = input.usage;
  const llms = [...new Set((u.byAgent ?? []).filter((a) => a.provider).map(llmOf))].sort();
  return {
    summary: [
      `Programs: ${programs.length} (${programs.filter((p) => p.status === 'ok').length} ok, ${programs.filter((p) => p.status !== 'ok').length} with problems)`,
      `COBOL lines: ${int(totalLines)}`,
      `Java files: ${input.generated.length} generated, ${validated} compiled`,
      `Tokens: ${int(u.inputTokens)} in, ${int(u.outputTokens)} out${u.reasoningTokens ? `, ${int(u.reasoningTokens)} reasoning` : ''}; cost ${usd(u.costUsd)}`,
      // Say whose figures these are: an offline run's cost is 0 because it called nobody, not because it was not priced.
      `LLM: ${llms.length > 0 ? llms.join(', ') : 'none called'}`,
    ],
    programs: {
      head: ['Program', 'File', 'Status', 'Lines', 'Code', 'Comments', 'Paragraphs', 'Statements', 'Complexity', 'Errors', 'Warnings', 'TODOs'],
      align: ['left', 'left', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
      rows: programs.map((p) => [
        p.name, p.fileName, p.status, int(p.metrics.totalLines), int(p.metrics.codeLines), int(p.metrics.commentLines),
        int(p.metrics.paragraphs), int(p.metrics.statements), int(p.metrics.complexity), int(p.errors), int(p.warnings),
        p.todos === undefined ? '-' : int(p.todos),
      ]),
    },
    generated: {
      head: ['File', 'Program', 'Compiled', 'Errors'],
      rows: [...input.generated].sort((a, b) => a.path.localeCompare(b.path)).map((g) => [g.path, g.program, g.validated ? 'yes' : 'no', (g.errors ?? []).join('; ')]),
    },
    failures: [...input.failures]
      .sort((a, b) => a.item.localeCompare(b.item) || a.stage.localeCompare(b.stage))
      .map((f) => ({
        title: `${f.item} (${f.stage}): ${f.message}`,
        lines: (f.diagnostics ?? []).map((d) => `${d.line}:${d.column} ${d.severity}: ${d.message}`),
      })),
    usage: {
      head: ['Agent', 'Calls', 'Input tokens', 'Output tokens', 'Reasoning tokens', 'Cost', 'LLM'],
      align: ['left', 'right', 'right', 'right', 'right', 'right', 'left'],
      rows: [
        ...[...(u.byAgent ?? [])].sort((a, b) => a.agent.localeCompare(b.agent)).map((a) => [
          a.agent, a.calls === undefined ? '-' : int(a.calls), int(a.inputTokens), int(a.outputTokens), int(a.reasoningTokens ?? 0), usd(a.costUsd), llmOf(a),
        ]),
        ['Total', '-', int(u.inputTokens), int(u.outputTokens), int(u.reasoningTokens ?? 0), usd(u.costUsd), llms.join(', ') || '-'],
      ],
    },
  };
}

/** The migration report as Markdown and as a standalone HTML page. Pure: same input, same output. */
export function renderReport(input: ReportInput): { markdown: string; html: string } {
  const s = sections(input);
  const title = input.title ?? 'COBOL to Java migration report';
  const meta = [input.runId ? `Run ${input.runId}` : '', input.generatedAt ? `generated ${input.generatedAt}` : ''].filter(Boolean).join(', ');
  const d = input.dependencies;
  const order = d.migrationOrder.map((p, i) => `${i + 1}. ${p}`);
  const cycles = d.cycles.length > 0 ? d.cycles.map((c) => `- ${c.join(' ↔ ')}`) : ['- none'];

  const md: string[] = [`# ${title}`, ''];
  if (meta) md.push(`_${meta}_`, '');
  md.push('## Summary', '', ...s.summary.map((l) => `- ${l}`), '');
  md.push('## Programs', '', ...mdTable(s.programs), '');
  md.push('## Dependencies', '', '```mermaid', d.mermaid.trimEnd(), '```', '');
  md.push(`Entry points: ${d.entryPoints.join(', ') || 'none'}`, '', 'Call cycles:', '', ...cycles, '');
  md.push('## Migration order', '', ...(order.length > 0 ? order : ['_none_']), '');
  md.push('## Generated files', '', ...(s.generated.rows.length > 0 ? mdTable(s.generated) : ['_none_']), '');
  md.push('## Failures', '');
  if (s.failures.length === 0) md.push('_none_', '');
  for (const f of s.failures) md.push(`### ${f.title}`, '', ...(f.lines.length > 0 ? ['```', ...f.lines, '```'] : []), '');
  md.push('## Tokens and cost', '', ...mdTable(s.usage), '');

  const h: string[] = [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<title>${html(title)}</title>`,
    '<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:80rem}table{border-collapse:collapse;margin:1rem 0}' +
      'th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}td.num,th.num{text-align:right}pre{background:#f6f8fa;padding:1rem;overflow:auto}</style>',
    '</head>',
    '<body>',
    `<h1>${html(title)}</h1>`,
  ];
  if (meta) h.push(`<p><em>${html(meta)}</em></p>`);
  h.push('<h2>Summary</h2>', `<ul>${s.summary.map((l) => `<li>${html(l)}</li>`).join('')}</ul>`);
  h.push('<h2>Programs</h2>', htmlTable(s.programs));
  h.push('<h2>Dependencies</h2>', `<pre class="mermaid">${html(d.mermaid)}</pre>`);
  h.push(`<p>Entry points: ${html(d.entryPoints.join(', ') || 'none')}</p>`, `<p>Call cycles:</p><ul>${cycles.map((c) => `<li>${html(c.slice(2))}</li>`).join('')}</ul>`);
  h.push('<h2>Migration order</h2>', order.length > 0 ? `<ol>${d.migrationOrder.map((p) => `<li>${html(p)}</li>`).join('')}</ol>` : '<p>none</p>');
  h.push('<h2>Generated files</h2>', s.generated.rows.length > 0 ? htmlTable(s.generated) : '<p>none</p>');
  h.push('<h2>Failures</h2>');
  if (s.failures.length === 0) h.push('<p>none</p>');
  for (const f of s.failures) h.push(`<h3>${html(f.title)}</h3>`, ...(f.lines.length > 0 ? [`<pre>${html(f.lines.join('\n'))}</pre>`] : []));
  h.push('<h2>Tokens and cost</h2>', htmlTable(s.usage));
  // Mermaid renders the diagram when the page is online; offline the source stays readable in the <pre>.
  h.push('<script type="module">import mermaid from "https://cdn.jsdelivr.net/npm/mermaid@11/dist/mermaid.esm.min.mjs";mermaid.initialize({startOnLoad:true});</script>');
  h.push('</body>', '</html>', '');
  return { markdown: md.join('\n'), html: h.join('\n') };
}
