import { walkStatements } from './procedure';
import { tokenizeText, type Token } from './tokenizer';
import type { CallEdge, DataItem, ExecBlock, FileDefinition, GoToEdge, Paragraph, PerformEdge } from './types';
import { entryAt } from './lists';

export interface ControlGraph {
  performs: PerformEdge[];
  calls: CallEdge[];
  gotos: GoToEdge[];
}

const CALL_STOP = new Set(['ON', 'NOT', 'EXCEPTION', 'OVERFLOW', 'RETURNING', 'GIVING', 'END-CALL']);
const USING_NOISE = new Set(['BY', 'REFERENCE', 'CONTENT', 'VALUE', 'ADDRESS', 'OF', 'LENGTH', 'OMITTED']);

function findItem(items: DataItem[], name: string): DataItem | undefined {
  for (const item of items) {
    if (item.name === name) return item;
    const inner = findItem(item.children, name);
    if (inner) return inner;
  }
  return undefined;
}

/** Literal values an identifier can hold: its VALUE, 88-level values, and MOVE 'X' TO it anywhere. */
function callCandidates(name: string, items: DataItem[], paragraphs: Paragraph[]): string[] {
  const out = new Set<string>();
  const item = findItem(items, name);
  if (item?.value?.kind === 'string' && item.value.value.trim()) out.add(item.value.value.trim().toUpperCase());
  for (const c of item?.conditions ?? []) {
    for (const v of c.values) if (v.from.kind === 'string' && v.from.value.trim()) out.add(v.from.value.trim().toUpperCase());
  }
  const re = new RegExp(`^MOVE\\s+(['"])(.*?)\\1\\s+TO\\s+(?:.*\\s)?${name.replace(/[-]/g, '\\-')}(\\s|$)`, 'i');
  for (const p of paragraphs) {
    walkStatements(p.statements, (s) => {
      if (s.verb !== 'MOVE') return;
      const m = re.exec(s.text);
      if (m && m[2].trim()) out.add(m[2].trim().toUpperCase());
    });
  }
  return [...out].sort();
}

function parseCall(tokens: Token[]): { target: string; dynamic: boolean; using: string[] } | undefined {
  const t = entryAt(tokens, 1);
  if (!t) return undefined;
  const using: string[] = [];
  let k = 2;
  if (tokens[k]?.upper === 'USING') {
    k++;
    while (k < tokens.length && !CALL_STOP.has(tokens[k].upper)) {
      const x = tokens[k];
      if (x.kind === 'lparen') {
        // Skip subscripts/reference modification: they belong to the previous argument.
        let depth = 0;
        do {
          if (tokens[k].kind === 'lparen') depth++;
          if (tokens[k].kind === 'rparen') depth--;
          k++;
        } while (k < tokens.length && depth > 0);
        continue;
      }
      if (x.kind === 'word' && !USING_NOISE.has(x.upper)) using.push(x.upper);
      else if (x.kind === 'string' || x.kind === 'number') using.push(x.text);
      k++;
    }
  }
  if (t.kind === 'string') return { target: t.upper.trim().toUpperCase(), dynamic: false, using };
  return { target: t.upper, dynamic: true, using };
}

export function buildControlGraph(paragraphs: Paragraph[], items: DataItem[]): ControlGraph {
  const performs: PerformEdge[] = [];
  const calls: CallEdge[] = [];
  const gotos: GoToEdge[] = [];
  for (const p of paragraphs) {
    walkStatements(p.statements, (s) => {
      if (s.verb === 'PERFORM' && s.perform && !s.perform.inline && s.perform.target) {
        performs.push({
          from: p.name,
          to: s.perform.target,
          ...(s.perform.thru ? { thru: s.perform.thru } : {}),
          line: s.line,
          loop: Boolean(s.perform.until || s.perform.varying || s.perform.times),
        });
      }
      if (s.verb === 'SORT' || s.verb === 'MERGE') {
        const m = /(INPUT|OUTPUT)\s+PROCEDURE\s+(?:IS\s+)?([A-Z0-9-]+)(?:\s+(?:THRU|THROUGH)\s+([A-Z0-9-]+))?/gi;
        for (const x of s.text.matchAll(m)) {
          performs.push({ from: p.name, to: x[2].toUpperCase(), ...(x[3] ? { thru: x[3].toUpperCase() } : {}), line: s.line, loop: false });
        }
      }
      if (s.verb === 'CALL') {
        const c = parseCall(tokenizeText(s.text));
        if (c) {
          calls.push({
            from: p.name,
            target: c.target,
            dynamic: c.dynamic,
            candidates: c.dynamic ? callCandidates(c.target, items, paragraphs) : [],
            using: c.using,
            line: s.line,
            via: 'CALL',
          });
        }
      }
      if (s.verb === 'EXEC') {
        const m = /^EXEC CICS (LINK|XCTL)\b.*?\bPROGRAM\s*\(\s*(?:(['"])(.*?)\2|([A-Z0-9-]+))\s*\)/i.exec(s.text);
        if (m) {
          // Group 3 (a quoted name) and group 4 (an identifier) are alternatives: one of them is undefined.
          const quoted = entryAt(m, 3);
          const literal = quoted !== undefined;
          const target = (literal ? quoted : m[4]).trim().toUpperCase();
          calls.push({
            from: p.name,
            target,
            dynamic: !literal,
            candidates: literal ? [] : callCandidates(target, items, paragraphs),
            using: [],
            line: s.line,
            via: m[1].toUpperCase() === 'LINK' ? 'CICS LINK' : 'CICS XCTL',
          });
        }
      }
      if (s.verb === 'GO') {
        const toks = tokenizeText(s.text).slice(1);
        if (toks[0]?.upper === 'TO') toks.shift();
        const dep = toks.findIndex((x) => x.upper === 'DEPENDING');
        const names = (dep < 0 ? toks : toks.slice(0, dep)).filter((x) => x.kind === 'word' || x.kind === 'number').map((x) => x.upper);
        const on = dep < 0 ? undefined : toks.slice(dep + 1).find((x) => x.kind === 'word' && x.upper !== 'ON')?.upper;
        gotos.push({ from: p.name, to: names, ...(on ? { dependingOn: on } : {}), line: s.line });
      }
    });
  }
  return { performs, calls, gotos };
}

/** OPEN INPUT a OUTPUT b I-O c EXTEND d → modes on the file definitions. */
export function applyOpenModes(paragraphs: Paragraph[], files: FileDefinition[]): void {
  const byName = new Map(files.map((f) => [f.name, f]));
  const modes = new Map<string, Set<string>>();
  for (const p of paragraphs) {
    walkStatements(p.statements, (s) => {
      if (s.verb !== 'OPEN') return;
      let mode = '';
      for (const t of tokenizeText(s.text).slice(1)) {
        if (['INPUT', 'OUTPUT', 'I-O', 'EXTEND'].includes(t.upper)) mode = t.upper;
        else if (t.kind === 'word' && mode && byName.has(t.upper)) {
          const set = modes.get(t.upper) ?? new Set<string>();
          set.add(mode);
          modes.set(t.upper, set);
        }
      }
    });
  }
  for (const f of files) f.openModes = [...(modes.get(f.name) ?? [])].sort();
}

function execCommand(kind: string, body: string): string {
  const words = body.toUpperCase().split(/[\s(]+/).filter(Boolean);
  const [a = '', b = ''] = words;
  if (kind === 'SQL' && a === 'DECLARE') return words.includes('CURSOR') ? 'DECLARE CURSOR' : words.includes('TABLE') ? 'DECLARE TABLE' : 'DECLARE';
  if (kind === 'CICS' && ['SEND', 'RECEIVE', 'HANDLE', 'START', 'READ', 'WRITE'].includes(a) && ['MAP', 'TEXT', 'CONDITION', 'AID', 'ABEND', 'TRANSID', 'NEXT', 'PREV', 'QUEUE', 'FILE'].includes(b)) {
    return `${a} ${b}`;
  }
  if (kind === 'SQL' && (a === 'BEGIN' || a === 'END') && b === 'DECLARE') return `${a} DECLARE SECTION`;
  return a;
}

export function collectExecBlocks(tokens: Token[], paragraphAt: (line: number) => string | undefined): ExecBlock[] {
  const out: ExecBlock[] = [];
  for (const t of tokens) {
    if (t.kind !== 'exec') continue;
    const kind = t.execKind === 'SQL' || t.execKind === 'CICS' || t.execKind === 'DLI' ? t.execKind : 'OTHER';
    const paragraph = t.copybook ? undefined : paragraphAt(t.line);
    out.push({
      kind,
      command: execCommand(kind, t.text),
      line: t.line,
      endLine: t.endLine,
      ...(paragraph ? { paragraph } : {}),
      text: t.text,
    });
  }
  return out;
}
