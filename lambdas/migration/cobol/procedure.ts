import { StatementParser, VERBS } from './statements';
import type { Token } from './tokenizer';
import type { Diagnostic, Paragraph, Section, Statement } from './types';
import { entryAt } from './lists';

/** Paragraph holding statements written before the first paragraph header. */
export const ENTRY_PARAGRAPH = '(ENTRY)';

export interface ProcedureResult {
  sections: Section[];
  paragraphs: Paragraph[];
}

interface Header {
  kind: 'section' | 'paragraph' | 'declaratives' | 'end-declaratives' | 'end-program';
  name: string;
  index: number;
  /** Index of the first token after the header's period. */
  bodyStart: number;
  token: Token;
}

/** A header can only start right after a period (or at the start of the division). */
function findHeaders(tokens: Token[], start: number, end: number, diagnostics: Diagnostic[]): Header[] {
  const headers: Header[] = [];
  let sentenceStart = true;
  for (let i = start; i < end; i++) {
    const t = tokens[i];
    if (t.kind === 'period') {
      sentenceStart = true;
      continue;
    }
    if (!sentenceStart) continue;
    sentenceStart = false;
    const n1 = entryAt(tokens, i + 1);
    const n2 = entryAt(tokens, i + 2);
    const isName = (t.kind === 'word' || t.kind === 'number') && !VERBS.has(t.upper);
    if (t.upper === 'DECLARATIVES' && n1?.kind === 'period') {
      headers.push({ kind: 'declaratives', name: 'DECLARATIVES', index: i, bodyStart: i + 2, token: t });
      i++;
      sentenceStart = true;
      continue;
    }
    if (t.upper === 'END' && n1?.upper === 'DECLARATIVES') {
      headers.push({ kind: 'end-declaratives', name: 'DECLARATIVES', index: i, bodyStart: i + 3, token: t });
      i += 2;
      sentenceStart = true;
      continue;
    }
    if (t.upper === 'END' && n1?.upper === 'PROGRAM') {
      headers.push({ kind: 'end-program', name: n2?.upper ?? '', index: i, bodyStart: end, token: t });
      return headers;
    }
    if (isName && n1?.upper === 'SECTION') {
      let k = i + 2;
      if (tokens[k]?.kind === 'number') k++;
      if (tokens[k]?.kind !== 'period') {
        diagnostics.push({ line: t.line, column: t.column, severity: 'error', message: `section header ${t.upper} not terminated by a period` });
      } else k++;
      headers.push({ kind: 'section', name: t.upper, index: i, bodyStart: k, token: t });
      i = k - 1;
      sentenceStart = true;
      continue;
    }
    if (isName && n1?.kind === 'period' && t.areaA !== false) {
      headers.push({ kind: 'paragraph', name: t.upper, index: i, bodyStart: i + 2, token: t });
      i++;
      sentenceStart = true;
      continue;
    }
    if (isName && n1?.kind === 'period' && t.areaA === false) {
      diagnostics.push({ line: t.line, column: t.column, severity: 'warning', message: `paragraph name ${t.upper} not in area A` });
      headers.push({ kind: 'paragraph', name: t.upper, index: i, bodyStart: i + 2, token: t });
      i++;
      sentenceStart = true;
    }
  }
  return headers;
}

function lastLineBefore(tokens: Token[], index: number, fallback: number): number {
  return index > 0 && tokens[index - 1] ? tokens[index - 1].endLine : fallback;
}

export function parseProcedure(tokens: Token[], start: number, end: number, diagnostics: Diagnostic[]): ProcedureResult {
  const headers = findHeaders(tokens, start, end, diagnostics);
  const sections: Section[] = [];
  const paragraphs: Paragraph[] = [];
  const seen = new Map<string, number>();
  let currentSection: Section | undefined;
  const stopAt = headers.find((h) => h.kind === 'end-program')?.index ?? end;

  const bodyEnd = (k: number): number => {
    const next = entryAt(headers, k + 1);
    return next ? next.index : stopAt;
  };

  const addParagraph = (name: string, token: Token | undefined, from: number, to: number): void => {
    const parser = new StatementParser(tokens, from, to, diagnostics);
    const statements = parser.parseSentences();
    const first = entryAt(tokens, from);
    const line = token?.line ?? first?.line ?? 0;
    if (token && seen.has(`${currentSection?.name ?? ''}/${name}`)) {
      diagnostics.push({ line, column: token.column, severity: 'warning', message: `duplicate paragraph name ${name}` });
    }
    seen.set(`${currentSection?.name ?? ''}/${name}`, line);
    paragraphs.push({
      name,
      ...(currentSection ? { section: currentSection.name } : {}),
      line,
      endLine: Math.max(line, lastLineBefore(tokens, to, line)),
      statements,
      statementCount: countStatements(statements),
      complexity: 1 + decisions(statements),
    });
  };

  const firstBody = headers.length > 0 ? headers[0].index : stopAt;
  if (firstBody > start) addParagraph(ENTRY_PARAGRAPH, undefined, start, firstBody);

  headers.forEach((h, k) => {
    if (h.kind === 'end-program') return;
    const to = bodyEnd(k);
    if (h.kind === 'section') {
      if (currentSection) currentSection.endLine = lastLineBefore(tokens, h.index, currentSection.line);
      currentSection = { name: h.name, division: 'PROCEDURE', line: h.token.line, endLine: h.token.line };
      sections.push(currentSection);
      // Statements directly after a section header form an unnamed paragraph named after the section.
      if (to > h.bodyStart) addParagraph(h.name, h.token, h.bodyStart, to);
      return;
    }
    if (h.kind === 'declaratives' || h.kind === 'end-declaratives') {
      if (currentSection && h.kind === 'end-declaratives') {
        currentSection.endLine = lastLineBefore(tokens, h.index, currentSection.line);
        currentSection = undefined;
      }
      if (to > h.bodyStart) addParagraph(ENTRY_PARAGRAPH, undefined, h.bodyStart, to);
      return;
    }
    addParagraph(h.name, h.token, h.bodyStart, to);
  });
  if (currentSection) currentSection.endLine = lastLineBefore(tokens, stopAt, currentSection.line);
  return { sections, paragraphs };
}

export function walkStatements(statements: Statement[], visit: (s: Statement, depth: number) => void, depth = 0): void {
  for (const s of statements) {
    visit(s, depth);
    const nested = [s.then, s.else, s.body, ...(s.whens ?? []).map((w) => w.body), ...(s.handlers ?? []).map((h) => h.body)];
    for (const n of nested) if (n) walkStatements(n, visit, depth + 1);
  }
}

function countStatements(statements: Statement[]): number {
  let n = 0;
  walkStatements(statements, () => n++);
  return n;
}

function logicalOperators(text: string | undefined): number {
  if (!text) return 0;
  return (text.match(/(^|\s)(AND|OR)(?=\s)/gi) ?? []).length;
}

function decisions(statements: Statement[]): number {
  let n = 0;
  walkStatements(statements, (s) => {
    if (s.verb === 'IF') n += 1 + logicalOperators(s.condition);
    for (const w of s.whens ?? []) {
      for (const c of w.conditions) if (c.toUpperCase() !== 'OTHER') n += 1 + logicalOperators(c);
    }
    n += s.handlers?.length ?? 0;
    if (s.perform && (s.perform.until || s.perform.varying || s.perform.times)) {
      n += 1 + logicalOperators(s.perform.until) + (s.perform.varying?.length ?? 1) - 1;
    }
    if (s.verb === 'GO') {
      const m = /^GO\s+(?:TO\s+)?(.*?)\s+DEPENDING\b/i.exec(s.text);
      if (m) n += Math.max(0, m[1].split(/\s+/).length - 1);
    }
  });
  return n;
}

export function maxNesting(statements: Statement[]): number {
  let max = 0;
  walkStatements(statements, (s, depth) => {
    const opens = s.verb === 'IF' || s.verb === 'EVALUATE' || s.verb === 'SEARCH' || (s.perform?.inline ?? false);
    if (opens) max = Math.max(max, depth + 1);
  });
  return max;
}
