import { normalizeSource } from './normalize';
import { tokenize, type Token } from './tokenizer';
import type { CopybookUse, Diagnostic } from './types';
import { entryAt } from './lists';

export type CopybookResolver = (name: string) => string | undefined;

interface Replacement {
  from: Token[];
  to: Token[];
  mode: 'whole' | 'leading' | 'trailing' | 'partial';
  text: { from: string; to: string };
}

export interface CopyExpansion {
  tokens: Token[];
  uses: CopybookUse[];
  copybookLines: number;
}

const MAX_DEPTH = 12;
/** IBM convention: a pseudo-text operand like ==:PFX:== or ==(PFX)== replaces part of a word. */
const PARTIAL_TAG = /^(:[A-Z0-9_-]+:|\([A-Z0-9_-]+\))$/i;
const IMPLICIT_COPYBOOKS = new Set(['SQLCA', 'SQLDA', 'DFHAID', 'DFHBMSCA', 'DFHEIBLK']);

function same(a: Token, b: Token): boolean {
  if (a.kind !== b.kind && !(isWordy(a) && isWordy(b))) return false;
  return a.kind === 'string' ? a.text === b.text : a.upper === b.upper;
}

function isWordy(t: Token): boolean {
  return t.kind === 'word' || t.kind === 'number';
}

function lookup(resolve: CopybookResolver, name: string): string | undefined {
  const candidates = [name, name.toUpperCase(), name.toLowerCase()];
  for (const c of candidates) {
    const text = resolve(c);
    if (text !== undefined) return text;
  }
  return undefined;
}

/** Reads an operand of REPLACING: ==pseudo text==, or a single word / literal. */
function readOperand(tokens: Token[], i: number): { tokens: Token[]; next: number } | undefined {
  const t = entryAt(tokens, i);
  if (!t) return undefined;
  if (t.kind === 'pseudo') {
    const out: Token[] = [];
    let j = i + 1;
    while (j < tokens.length && tokens[j].kind !== 'pseudo') out.push(tokens[j++]);
    if (j >= tokens.length) return undefined;
    return { tokens: out, next: j + 1 };
  }
  if (t.kind === 'period') return undefined;
  return { tokens: [t], next: i + 1 };
}

function renderTokens(tokens: Token[]): string {
  return tokens.map((t) => t.text).join(' ');
}

function retype(t: Token, text: string): Token {
  const kind = /^[+-]?\d+(\.\d+)?$/.test(text) ? 'number' : 'word';
  return { ...t, kind, text, upper: kind === 'word' ? text.toUpperCase() : text };
}

function applyReplacing(tokens: Token[], reps: Replacement[]): Token[] {
  if (reps.length === 0) return tokens;
  const out: Token[] = [];
  let i = 0;
  outer: while (i < tokens.length) {
    for (const r of reps) {
      if (r.mode !== 'whole' || r.from.length === 0) continue;
      const matches = (f: Token, k: number): boolean => {
        const t = entryAt(tokens, i + k);
        return t !== undefined && same(t, f);
      };
      if (r.from.every(matches)) {
        const anchor = tokens[i];
        for (const t of r.to) out.push({ ...t, line: anchor.line, column: anchor.column, endLine: anchor.endLine, copybook: anchor.copybook, copyLine: anchor.copyLine });
        i += r.from.length;
        continue outer;
      }
    }
    let t = tokens[i];
    if (isWordy(t)) {
      for (const r of reps) {
        if (r.mode === 'whole' || r.from.length !== 1) continue;
        const from = r.from[0].upper;
        const to = r.to.map((x) => x.text).join('');
        const upper = t.upper;
        if (r.mode === 'leading' && upper.startsWith(from)) {
          t = retype(t, to + t.text.slice(from.length));
          break;
        }
        if (r.mode === 'trailing' && upper.endsWith(from)) {
          t = retype(t, t.text.slice(0, t.text.length - from.length) + to);
          break;
        }
        if (r.mode === 'partial' && upper.includes(from)) {
          t = retype(t, t.text.split(new RegExp(escapeRegExp(from), 'i')).join(to));
          break;
        }
      }
    }
    out.push(t);
    i++;
  }
  return out;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

interface CopyStatement {
  name: string;
  library?: string;
  replacing: Replacement[];
  next: number;
}

function parseCopy(tokens: Token[], i: number, diagnostics: Diagnostic[]): CopyStatement | undefined {
  const copy = tokens[i];
  const nameTok = entryAt(tokens, i + 1);
  if (!nameTok || (nameTok.kind !== 'word' && nameTok.kind !== 'string')) {
    diagnostics.push({ line: copy.line, column: copy.column, severity: 'error', message: 'COPY without a copybook name' });
    return undefined;
  }
  const name = nameTok.kind === 'string' ? nameTok.upper.replace(/\.(cpy|cbl|cob|copy)$/i, '') : nameTok.text;
  let j = i + 2;
  let library: string | undefined;
  const replacing: Replacement[] = [];
  if (tokens[j] && (tokens[j].upper === 'OF' || tokens[j].upper === 'IN') && tokens[j].kind === 'word') {
    library = tokens[j + 1]?.kind === 'string' ? tokens[j + 1].upper : tokens[j + 1]?.text;
    j += 2;
  }
  if (tokens[j]?.upper === 'SUPPRESS') j++;
  if (tokens[j]?.upper === 'REPLACING') {
    j++;
    while (j < tokens.length && tokens[j].kind !== 'period') {
      let mode: Replacement['mode'] = 'whole';
      if (tokens[j].upper === 'LEADING' || tokens[j].upper === 'TRAILING') {
        mode = tokens[j].upper === 'LEADING' ? 'leading' : 'trailing';
        j++;
      }
      const from = readOperand(tokens, j);
      if (!from || tokens[from.next]?.upper !== 'BY') {
        const at = tokens[j] ?? copy;
        diagnostics.push({ line: at.line, column: at.column, severity: 'error', message: 'malformed REPLACING phrase in COPY' });
        while (j < tokens.length && tokens[j].kind !== 'period') j++;
        break;
      }
      const to = readOperand(tokens, from.next + 1);
      if (!to) {
        diagnostics.push({ line: copy.line, column: copy.column, severity: 'error', message: 'REPLACING ... BY without a replacement' });
        while (j < tokens.length && tokens[j].kind !== 'period') j++;
        break;
      }
      if (mode === 'whole' && from.tokens.length === 1 && tokens[j].kind === 'pseudo' && PARTIAL_TAG.test(from.tokens[0].text)) mode = 'partial';
      replacing.push({ from: from.tokens, to: to.tokens, mode, text: { from: renderTokens(from.tokens), to: renderTokens(to.tokens) } });
      j = to.next;
    }
  }
  if (tokens[j]?.kind === 'period') j++;
  else {
    const at = tokens[j - 1] ?? copy;
    diagnostics.push({ line: at.line, column: at.column, severity: 'warning', message: `COPY ${name} not terminated by a period` });
  }
  return { name, library, replacing, next: j };
}

/**
 * Expands COPY statements (and EXEC SQL INCLUDE) in place. Expanded tokens keep the COPY statement's position
 * (so diagnostics point into the program) and carry the copybook name and line they came from.
 */
export function expandCopybooks(tokens: Token[], resolve: CopybookResolver | undefined, diagnostics: Diagnostic[]): CopyExpansion {
  const uses: CopybookUse[] = [];
  let copybookLines = 0;

  const loadCopybook = (name: string, stack: string[], anchor: Token, origin?: string): { tokens: Token[]; nested: string[] } | undefined => {
    if (stack.includes(name.toUpperCase())) {
      diagnostics.push({ line: anchor.line, column: anchor.column, severity: 'error', message: `recursive COPY of ${name}`, ...(origin ? { copybook: origin } : {}) });
      return undefined;
    }
    if (stack.length >= MAX_DEPTH) {
      diagnostics.push({ line: anchor.line, column: anchor.column, severity: 'error', message: `COPY nesting deeper than ${MAX_DEPTH}` });
      return undefined;
    }
    const text = resolve ? lookup(resolve, name) : undefined;
    if (text === undefined) return undefined;
    const norm = normalizeSource(text);
    const inner: Diagnostic[] = [];
    const raw = tokenize(norm.lines, inner);
    copybookLines += norm.lines.length;
    for (const d of [...norm.diagnostics, ...inner]) {
      diagnostics.push({ ...d, line: anchor.line, column: anchor.column, message: `${d.message} (copybook ${name} line ${d.line})`, copybook: name.toUpperCase() });
    }
    const stamped = raw.map((t) => ({ ...t, line: anchor.line, column: anchor.column, endLine: anchor.line, copybook: name.toUpperCase(), copyLine: t.line, areaA: t.areaA }));
    const nested: string[] = [];
    const expanded = walk(stamped, [...stack, name.toUpperCase()], nested);
    return { tokens: expanded, nested };
  };

  const walk = (input: Token[], stack: string[], nestedOut: string[] | undefined): Token[] => {
    const out: Token[] = [];
    for (let i = 0; i < input.length; i++) {
      const t = input[i];
      if (t.kind === 'word' && t.upper === 'COPY') {
        const stmt = parseCopy(input, i, diagnostics);
        if (!stmt) continue;
        const loaded = loadCopybook(stmt.name, stack, t, t.copybook);
        const use: CopybookUse = {
          name: stmt.name.toUpperCase(),
          line: t.copyLine ?? t.line,
          ...(stmt.library ? { library: stmt.library.toUpperCase() } : {}),
          resolved: loaded !== undefined,
          replacing: stmt.replacing.map((r) => r.text),
          nested: loaded ? loaded.nested : [],
        };
        if (nestedOut) nestedOut.push(use.name);
        else uses.push(use);
        if (loaded) out.push(...applyReplacing(loaded.tokens, stmt.replacing));
        else if (!stack.some((s) => s === stmt.name.toUpperCase()) && stack.length < MAX_DEPTH) {
          diagnostics.push({ line: t.line, column: t.column, severity: 'warning', message: `copybook ${stmt.name} not found`, ...(t.copybook ? { copybook: t.copybook } : {}) });
        }
        i = stmt.next - 1;
        continue;
      }
      if (t.kind === 'exec' && t.execKind === 'SQL') {
        const inc = /^INCLUDE\s+([A-Za-z0-9_-]+)\s*$/i.exec(t.text);
        if (inc) {
          const name = inc[1].toUpperCase();
          const loaded = IMPLICIT_COPYBOOKS.has(name) ? undefined : loadCopybook(name, stack, t, t.copybook);
          if (!nestedOut) uses.push({ name, line: t.line, resolved: loaded !== undefined, replacing: [], nested: loaded ? loaded.nested : [] });
          else nestedOut.push(name);
          if (loaded) {
            out.push(...loaded.tokens);
            if (input[i + 1]?.kind === 'period') i++;
            continue;
          }
          if (!IMPLICIT_COPYBOOKS.has(name)) {
            diagnostics.push({ line: t.line, column: t.column, severity: 'warning', message: `SQL INCLUDE member ${name} not found` });
          }
        }
      }
      out.push(t);
    }
    return out;
  };

  const expanded = walk(tokens, [], undefined);
  return { tokens: expanded, uses, copybookLines };
}
