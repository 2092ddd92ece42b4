import type { Diagnostic, EncodingIssue, SourceFormat } from './types';

type LineKind = 'code' | 'comment' | 'blank' | 'directive' | 'debug';

export interface SourceLine {
  /** 1-based physical line number. */
  line: number;
  kind: LineKind;
  /** Program text of the line: area A+B in fixed format (columns 8-72), the whole line in free format. */
  text: string;
  /** 1-based column of text[0] in the physical line. */
  column: number;
  /** Fixed format '-' indicator. */
  continuation: boolean;
  /** An alphanumeric literal left open at the end of this line extends to this many characters of `text`. */
  padTo?: number;
  format: SourceFormat;
}

export interface NormalizedSource {
  format: SourceFormat | 'mixed';
  lines: SourceLine[];
  encodingIssues: EncodingIssue[];
  diagnostics: Diagnostic[];
}

const FIXED_AREA_END = 72;
const TAB_WIDTH = 8;
const INDICATORS = new Set([' ', '*', '/', '-', 'D', 'd', '$']);
const DIRECTIVE_FORMAT = /^\s*>>\s*SOURCE\s+(?:FORMAT\s+)?(?:IS\s+)?(FREE|FIXED)\b/i;
const MF_DIRECTIVE_FORMAT = /\$SET\s+.*SOURCEFORMAT\s*[("']+\s*(FREE|FIXED)/i;

export function splitLines(source: string): string[] {
  const text = source.startsWith('\uFEFF') ? source.slice(1) : source;
  const lines = text.split(/\r\n|\n|\r/);
  // A trailing newline does not start another line.
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Heuristic: fixed unless a meaningful share of lines cannot be fixed-format lines. */
export function detectFormat(lines: string[]): SourceFormat {
  for (const raw of lines.slice(0, 20)) {
    const m = DIRECTIVE_FORMAT.exec(raw) ?? MF_DIRECTIVE_FORMAT.exec(raw);
    if (m) return m[1].toUpperCase() === 'FREE' ? 'free' : 'fixed';
  }
  let considered = 0;
  let notFixed = 0;
  for (const raw of lines.slice(0, 400)) {
    const line = raw.replace(/\t/g, ' '.repeat(TAB_WIDTH));
    if (line.trim() === '') continue;
    considered++;
    const trimmed = line.trimStart();
    if (trimmed.startsWith('*>') && line.length - trimmed.length < 6) {
      notFixed++;
      continue;
    }
    if (line.length < 7) continue;
    const seq = line.slice(0, 6);
    const indicator = line[6];
    const firstCode = line.search(/\S/);
    if (!INDICATORS.has(indicator)) notFixed++;
    else if (firstCode < 6 && /^[A-Za-z]/.test(line.slice(firstCode)) && !/^[A-Za-z0-9 ]{6}$/.test(seq)) notFixed++;
    else if (firstCode < 6 && /^(IDENTIFICATION|ID|PROGRAM-ID|PROCEDURE|DATA|ENVIRONMENT)\b/i.test(trimmed)) notFixed++;
  }
  return considered > 0 && notFixed / considered > 0.1 ? 'free' : 'fixed';
}

function expandTabs(line: string): string {
  if (!line.includes('\t')) return line;
  let out = '';
  for (const ch of line) {
    if (ch === '\t') out += ' '.repeat(TAB_WIDTH - (out.length % TAB_WIDTH));
    else out += ch;
  }
  return out;
}

function scanEncoding(raw: string, lineNo: number, issues: EncodingIssue[]): void {
  let reportedNonAscii = false;
  for (let i = 0; i < raw.length; i++) {
    const code = raw.charCodeAt(i);
    if (code === 0xfffd) {
      issues.push({ line: lineNo, column: i + 1, message: 'undecodable byte (replacement character U+FFFD)' });
    } else if (code === 0x09) {
      issues.push({ line: lineNo, column: i + 1, message: `tab character expanded to tab stops of ${TAB_WIDTH}` });
    } else if (code < 0x20 || code === 0x7f) {
      issues.push({ line: lineNo, column: i + 1, message: `control character 0x${code.toString(16).padStart(2, '0')}` });
    } else if (code > 0x7e && !reportedNonAscii) {
      reportedNonAscii = true;
      issues.push({
        line: lineNo,
        column: i + 1,
        message: `non-ASCII character U+${code.toString(16).toUpperCase().padStart(4, '0')} (code page dependent)`,
      });
    }
  }
}

function freeLine(raw: string, lineNo: number): SourceLine {
  const trimmed = raw.trim();
  const base = { line: lineNo, text: raw, column: 1, continuation: false, format: 'free' as const };
  if (trimmed === '') return { ...base, kind: 'blank' };
  if (trimmed.startsWith('*>')) return { ...base, kind: 'comment' };
  if (/^>>\s*D\b/i.test(trimmed)) return { ...base, kind: 'debug' };
  if (trimmed.startsWith('>>') || /^\$SET\b/i.test(trimmed)) return { ...base, kind: 'directive' };
  return { ...base, kind: 'code' };
}

function fixedLine(raw: string, lineNo: number, diagnostics: Diagnostic[]): SourceLine {
  const base = { line: lineNo, column: 8, continuation: false, format: 'fixed' as const };
  const area = raw.slice(7, FIXED_AREA_END);
  if (raw.length < 7 || raw.slice(6).trim() === '') return { ...base, kind: 'blank', text: '' };
  const indicator = raw[6];
  if (indicator === '*' || indicator === '/') return { ...base, kind: 'comment', text: area };
  if (indicator === 'D' || indicator === 'd') return { ...base, kind: 'debug', text: area };
  if (indicator === '$') return { ...base, kind: 'directive', text: raw.slice(6), column: 7 };
  const trimmed = area.trim();
  if (trimmed === '') return { ...base, kind: 'blank', text: '' };
  if (trimmed.startsWith('*>')) return { ...base, kind: 'comment', text: area };
  if (trimmed.startsWith('>>')) return { ...base, kind: 'directive', text: area };
  if (indicator !== ' ' && indicator !== '-') {
    diagnostics.push({
      line: lineNo,
      column: 7,
      severity: 'warning',
      message: `invalid indicator '${indicator}' in column 7; line treated as code`,
    });
  }
  return { ...base, kind: 'code', text: area, continuation: indicator === '-', padTo: FIXED_AREA_END - 7 };
}

/**
 * Turns physical lines into program text with positions kept, so every later diagnostic can point at the
 * original line and column. Format directives may switch the format mid-file.
 */
export function normalizeSource(source: string): NormalizedSource {
  const physical = splitLines(source);
  const encodingIssues: EncodingIssue[] = [];
  const diagnostics: Diagnostic[] = [];
  if (source.startsWith('\uFEFF')) encodingIssues.push({ line: 1, column: 1, message: 'byte order mark removed' });
  let format = detectFormat(physical);
  const seen = new Set<SourceFormat>([format]);
  const lines: SourceLine[] = [];
  physical.forEach((raw0, index) => {
    const lineNo = index + 1;
    scanEncoding(raw0, lineNo, encodingIssues);
    const raw = expandTabs(raw0);
    const directive = DIRECTIVE_FORMAT.exec(raw) ?? MF_DIRECTIVE_FORMAT.exec(raw);
    if (directive) {
      format = directive[1].toUpperCase() === 'FREE' ? 'free' : 'fixed';
      seen.add(format);
      lines.push({ line: lineNo, kind: 'directive', text: raw, column: 1, continuation: false, format });
      return;
    }
    lines.push(format === 'free' ? freeLine(raw, lineNo) : fixedLine(raw, lineNo, diagnostics));
  });
  return { format: seen.size > 1 ? 'mixed' : format, lines, encodingIssues, diagnostics };
}
