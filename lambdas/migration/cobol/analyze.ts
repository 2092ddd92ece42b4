import { expandCopybooks } from './copybooks';
import { parseDataDivision } from './data-division';
import { parseFileControl } from './environment';
import { applyOpenModes, buildControlGraph, collectExecBlocks } from './graph';
import { computeLayout } from './layout';
import { normalizeSource } from './normalize';
import { ENTRY_PARAGRAPH, maxNesting, parseProcedure } from './procedure';
import { tokenize, type Token } from './tokenizer';
import type { AnalyzeOptions, CobolAnalysis, DataItem, Diagnostic, Division, Metrics, Paragraph, Section } from './types';
import { entryAt } from './lists';

const DIVISION_NAMES: Partial<Record<string, Division['name']>> = {
  IDENTIFICATION: 'IDENTIFICATION',
  ID: 'IDENTIFICATION',
  ENVIRONMENT: 'ENVIRONMENT',
  DATA: 'DATA',
  PROCEDURE: 'PROCEDURE',
};
const ORDER: Division['name'][] = ['IDENTIFICATION', 'ENVIRONMENT', 'DATA', 'PROCEDURE'];

interface DivisionRange extends Division {
  headerIndex: number;
  bodyStart: number;
  end: number;
}

function emptyMetrics(): Metrics {
  return {
    totalLines: 0, codeLines: 0, commentLines: 0, blankLines: 0, copybookLines: 0, sections: 0, paragraphs: 0,
    statements: 0, dataItems: 0, complexity: 1, maxNesting: 0,
  };
}

function report(diagnostics: Diagnostic[], t: Token, severity: Diagnostic['severity'], message: string): void {
  diagnostics.push({ line: t.line, column: t.column, severity, message, ...(t.copybook ? { copybook: t.copybook } : {}) });
}

function findDivisions(tokens: Token[], lastLine: number, diagnostics: Diagnostic[]): DivisionRange[] {
  const found: DivisionRange[] = [];
  for (let i = 0; i + 1 < tokens.length; i++) {
    const t = tokens[i];
    if (tokens[i + 1].upper !== 'DIVISION' || t.kind !== 'word') continue;
    // A header starts a sentence; after an unterminated line it still counts when it starts its own line.
    if (i > 0 && tokens[i - 1].kind !== 'period' && (tokens[i - 1].endLine >= t.line || t.copybook)) continue;
    const name = DIVISION_NAMES[t.upper];
    if (!name) {
      report(diagnostics, t, 'error', `unknown division ${t.upper}`);
      continue;
    }
    let k = i + 2;
    if (name === 'PROCEDURE') while (k < tokens.length && tokens[k].kind !== 'period') k++;
    if (tokens[k]?.kind !== 'period') report(diagnostics, tokens[k - 1], 'error', `${name} DIVISION header not terminated by a period`);
    else k++;
    found.push({ name, line: t.line, endLine: t.line, headerIndex: i, bodyStart: k, end: tokens.length });
  }
  found.forEach((d, n) => {
    const next = entryAt(found, n + 1);
    d.end = next ? next.headerIndex : tokens.length;
    d.endLine = next ? Math.max(d.line, tokens[next.headerIndex - 1]?.endLine ?? d.line) : Math.max(d.line, lastLine);
  });
  recoverDataDivision(tokens, found, diagnostics);
  let last = -1;
  for (const d of found) {
    const rank = ORDER.indexOf(d.name);
    if (rank <= last) diagnostics.push({ line: d.line, column: 1, severity: 'error', message: `${d.name} DIVISION out of order or repeated` });
    last = Math.max(last, rank);
  }
  return found;
}

const DATA_SECTIONS = new Set(['FILE', 'WORKING-STORAGE', 'LOCAL-STORAGE', 'LINKAGE']);

/**
 * A misspelt DATA DIVISION header would otherwise hide every data item. When data sections appear without
 * the header, the division is assumed to start at the first of them.
 */
function recoverDataDivision(tokens: Token[], found: DivisionRange[], diagnostics: Diagnostic[]): void {
  if (found.some((d) => d.name === 'DATA')) return;
  const procedure = found.find((d) => d.name === 'PROCEDURE');
  const limit = procedure ? procedure.headerIndex : tokens.length;
  for (let i = 0; i + 1 < limit; i++) {
    if (!DATA_SECTIONS.has(tokens[i].upper) || tokens[i + 1].upper !== 'SECTION') continue;
    if (i > 0 && tokens[i - 1].kind !== 'period') continue;
    if (tokens[i].upper === 'FILE' && tokens[i + 2]?.kind === 'period' && tokens[i + 3]?.upper === 'SELECT') continue;
    const before = entryAt(tokens, i - 2);
    const at = before && before.kind === 'word' && tokens[i - 1].kind === 'period' ? tokens[i - 3] ?? before : tokens[i];
    diagnostics.push({ line: at.line, column: at.column, severity: 'error', message: `missing or misspelt DATA DIVISION header before ${tokens[i].upper} SECTION` });
    const range: DivisionRange = { name: 'DATA', line: tokens[i].line, endLine: tokens[i].line, headerIndex: i, bodyStart: i, end: limit };
    const previous = found.filter((d) => d.headerIndex < i).pop();
    if (previous) {
      previous.end = i;
      previous.endLine = Math.max(previous.line, tokens[i - 1].endLine);
    }
    range.endLine = procedure ? Math.max(range.line, tokens[procedure.headerIndex - 1].endLine) : tokens[tokens.length - 1].endLine;
    found.push(range);
    found.sort((a, b) => a.headerIndex - b.headerIndex);
    return;
  }
}

function programId(tokens: Token[], div: DivisionRange | undefined, diagnostics: Diagnostic[]): string | undefined {
  const start = div ? div.bodyStart : 0;
  const end = div ? div.end : Math.min(tokens.length, 50);
  for (let i = start; i < end; i++) {
    if (tokens[i].upper !== 'PROGRAM-ID') continue;
    let k = i + 1;
    if (tokens[k]?.kind === 'period') k++;
    const name = entryAt(tokens, k);
    if (!name || (name.kind !== 'word' && name.kind !== 'string')) {
      report(diagnostics, tokens[i], 'error', 'PROGRAM-ID without a program name');
      return undefined;
    }
    return name.kind === 'string' ? name.upper.trim().toUpperCase() : name.upper;
  }
  if (div) report(diagnostics, tokens[div.headerIndex], 'error', 'IDENTIFICATION DIVISION without PROGRAM-ID');
  return undefined;
}

function nonProcedureSections(tokens: Token[], divisions: DivisionRange[]): Section[] {
  const out: Section[] = [];
  for (const d of divisions) {
    if (d.name === 'PROCEDURE') continue;
    const local: Section[] = [];
    for (let i = d.bodyStart; i + 1 < d.end; i++) {
      if (tokens[i].kind === 'word' && tokens[i + 1].upper === 'SECTION' && (i === d.bodyStart || tokens[i - 1].kind === 'period')) {
        if (tokens[i].copybook) continue;
        const prev = entryAt(local, local.length - 1);
        if (prev) prev.endLine = Math.max(prev.line, tokens[i - 1].endLine);
        local.push({ name: tokens[i].upper, division: d.name, line: tokens[i].line, endLine: tokens[i].line });
      }
    }
    const lastSection = entryAt(local, local.length - 1);
    if (lastSection) lastSection.endLine = Math.max(lastSection.line, d.endLine);
    out.push(...local);
  }
  return out;
}

function procedureUsing(tokens: Token[], div: DivisionRange): string[] {
  const out: string[] = [];
  let using = false;
  for (let i = div.headerIndex + 2; i < div.bodyStart; i++) {
    const t = tokens[i];
    if (t.upper === 'USING') using = true;
    else if (t.upper === 'RETURNING' || t.kind === 'period') using = false;
    else if (using && t.kind === 'word' && !['BY', 'REFERENCE', 'VALUE', 'CONTENT'].includes(t.upper)) out.push(t.upper);
  }
  return out;
}

function countItems(items: DataItem[]): number {
  return items.reduce((n, i) => n + 1 + i.conditions.length + countItems(i.children), 0);
}

function checkTargets(paragraphs: Paragraph[], sections: Section[], analysis: CobolAnalysis, diagnostics: Diagnostic[]): void {
  const names = new Set([...paragraphs.map((p) => p.name), ...sections.filter((s) => s.division === 'PROCEDURE').map((s) => s.name)]);
  for (const e of analysis.performs) {
    for (const target of [e.to, e.thru]) {
      if (target && !names.has(target)) diagnostics.push({ line: e.line, column: 1, severity: 'error', message: `PERFORM target ${target} is not a paragraph or section` });
    }
  }
  for (const g of analysis.gotos) {
    for (const target of g.to) {
      if (!names.has(target)) diagnostics.push({ line: g.line, column: 1, severity: 'error', message: `GO TO target ${target} is not a paragraph or section` });
    }
  }
}

function sortDiagnostics(diagnostics: Diagnostic[]): Diagnostic[] {
  const rank = { error: 0, warning: 1, info: 2 };
  const seen = new Set<string>();
  return diagnostics
    .slice()
    .sort((a, b) => a.line - b.line || a.column - b.column || rank[a.severity] - rank[b.severity] || a.message.localeCompare(b.message))
    .filter((d) => {
      const key = JSON.stringify(d);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}

/**
 * Analyzes one COBOL source file (a missing source reads as an empty one). Never throws: whatever cannot be
 * parsed becomes a located diagnostic and the rest of the analysis is still produced (status 'partial').
 */
export function analyzeCobol(source: string | undefined, opts: AnalyzeOptions): CobolAnalysis {
  const diagnostics: Diagnostic[] = [];
  const analysis: CobolAnalysis = {
    schemaVersion: 1,
    fileName: opts.fileName,
    format: 'fixed',
    status: 'ok',
    divisions: [],
    sections: [],
    paragraphs: [],
    procedureUsing: [],
    copybooks: [],
    files: [],
    dataItems: [],
    performs: [],
    calls: [],
    gotos: [],
    execBlocks: [],
    metrics: emptyMetrics(),
    encodingIssues: [],
    diagnostics: [],
  };
  try {
    runAnalysis(source ?? '', opts, analysis, diagnostics);
  } catch (err) {
    diagnostics.push({ line: 1, column: 1, severity: 'error', message: `internal analyzer error: ${err instanceof Error ? err.message : String(err)}` });
  }
  analysis.diagnostics = sortDiagnostics(diagnostics);
  analysis.status = analysis.diagnostics.some((d) => d.severity === 'error') ? 'partial' : 'ok';
  return analysis;
}

function runAnalysis(source: string, opts: AnalyzeOptions, analysis: CobolAnalysis, diagnostics: Diagnostic[]): void {
  const norm = normalizeSource(source);
  analysis.format = norm.format;
  analysis.encodingIssues = norm.encodingIssues;
  diagnostics.push(...norm.diagnostics);
  const m = analysis.metrics;
  for (const l of norm.lines) {
    if (l.kind === 'blank') m.blankLines++;
    else if (l.kind === 'comment' || l.kind === 'debug') m.commentLines++;
    else m.codeLines++;
  }
  m.totalLines = norm.lines.length;

  const raw = tokenize(norm.lines, diagnostics);
  const expansion = expandCopybooks(raw, opts.resolveCopybook, diagnostics);
  const tokens = expansion.tokens;
  analysis.copybooks = expansion.uses;
  m.copybookLines = expansion.copybookLines;
  if (tokens.length === 0) {
    diagnostics.push({ line: 1, column: 1, severity: 'error', message: 'no COBOL source text' });
    return;
  }

  const lastLine = norm.lines.length;
  const divisions = findDivisions(tokens, lastLine, diagnostics);
  analysis.divisions = divisions.map(({ name, line, endLine }) => ({ name, line, endLine }));
  const div = (name: Division['name']): DivisionRange | undefined => divisions.find((d) => d.name === name);
  const idDiv = div('IDENTIFICATION');
  if (!idDiv) diagnostics.push({ line: tokens[0].line, column: tokens[0].column, severity: 'error', message: 'missing IDENTIFICATION DIVISION' });
  const id = programId(tokens, idDiv, diagnostics);
  if (id) analysis.programId = id;

  const env = div('ENVIRONMENT');
  if (env) analysis.files = parseFileControl(tokens, env.bodyStart, env.end, diagnostics);

  const data = div('DATA');
  if (data) {
    const result = parseDataDivision(tokens, data.bodyStart, data.end, diagnostics);
    computeLayout(result.items);
    analysis.dataItems = result.items;
    for (const fd of result.fds) {
      const file = analysis.files.find((f) => f.name === fd.name);
      if (!file) {
        diagnostics.push({ line: fd.line, column: 1, severity: 'error', message: `${fd.descriptor} ${fd.name} has no SELECT` });
        continue;
      }
      file.descriptor = fd.descriptor;
      file.fdLine = fd.line;
      if (fd.recordContains) file.recordContains = fd.recordContains;
      if (fd.blockContains !== undefined) file.blockContains = fd.blockContains;
      if (fd.labelRecords) file.labelRecords = fd.labelRecords;
      file.records = fd.records;
    }
    for (const f of analysis.files) {
      if (!f.descriptor) diagnostics.push({ line: f.line, column: 1, severity: 'warning', message: `file ${f.name} has no FD` });
    }
  }
  m.dataItems = countItems(analysis.dataItems);

  const proc = div('PROCEDURE');
  if (!proc) {
    diagnostics.push({ line: lastLine || 1, column: 1, severity: 'error', message: 'missing PROCEDURE DIVISION' });
  } else {
    analysis.procedureUsing = procedureUsing(tokens, proc);
    const result = parseProcedure(tokens, proc.bodyStart, proc.end, diagnostics);
    analysis.paragraphs = result.paragraphs;
    analysis.sections = [...nonProcedureSections(tokens, divisions), ...result.sections].sort((a, b) => a.line - b.line);
    const graph = buildControlGraph(result.paragraphs, analysis.dataItems);
    analysis.performs = graph.performs;
    analysis.calls = graph.calls;
    analysis.gotos = graph.gotos;
    applyOpenModes(result.paragraphs, analysis.files);
    checkTargets(result.paragraphs, result.sections, analysis, diagnostics);
    if (result.paragraphs.length === 0) diagnostics.push({ line: proc.line, column: 1, severity: 'warning', message: 'PROCEDURE DIVISION has no statements' });
  }
  if (!analysis.sections.length) analysis.sections = nonProcedureSections(tokens, divisions);

  const paragraphAt = (line: number): string | undefined => {
    let found: string | undefined;
    for (const p of analysis.paragraphs) if (line >= p.line && line <= p.endLine) found = p.name;
    return found === ENTRY_PARAGRAPH ? ENTRY_PARAGRAPH : found;
  };
  analysis.execBlocks = collectExecBlocks(tokens, (line) => (proc && line > proc.line ? paragraphAt(line) : undefined));

  m.sections = analysis.sections.filter((s) => s.division === 'PROCEDURE').length;
  m.paragraphs = analysis.paragraphs.filter((p) => p.name !== ENTRY_PARAGRAPH).length;
  m.statements = analysis.paragraphs.reduce((n, p) => n + p.statementCount, 0);
  m.complexity = 1 + analysis.paragraphs.reduce((n, p) => n + p.complexity - 1, 0);
  m.maxNesting = analysis.paragraphs.reduce((n, p) => Math.max(n, maxNesting(p.statements)), 0);
}
