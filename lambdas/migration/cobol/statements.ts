import type { Token } from './tokenizer';
import type { Diagnostic, PerformSpec, Statement } from './types';
import { entryAt } from './lists';

export const VERBS = new Set([
  'ACCEPT', 'ADD', 'ALTER', 'CALL', 'CANCEL', 'CLOSE', 'COMPUTE', 'CONTINUE', 'DELETE', 'DISPLAY', 'DIVIDE',
  'ENTRY', 'EVALUATE', 'EXIT', 'GENERATE', 'GO', 'GOBACK', 'IF', 'INITIALIZE', 'INITIATE', 'INSPECT', 'MERGE',
  'MOVE', 'MULTIPLY', 'NEXT', 'OPEN', 'PERFORM', 'READ', 'RELEASE', 'RETURN', 'REWRITE', 'SEARCH', 'SET', 'SORT',
  'START', 'STOP', 'STRING', 'SUBTRACT', 'TERMINATE', 'UNSTRING', 'USE', 'WRITE', 'XML', 'JSON', 'INVOKE', 'ALLOCATE', 'FREE',
]);

/** Statements whose operands may be followed by conditional phrases with nested imperative statements. */
const WITH_HANDLERS = new Set([
  'ADD', 'SUBTRACT', 'MULTIPLY', 'DIVIDE', 'COMPUTE', 'READ', 'WRITE', 'REWRITE', 'DELETE', 'START', 'RETURN',
  'CALL', 'STRING', 'UNSTRING', 'ACCEPT', 'DISPLAY', 'XML', 'JSON',
]);

const AT_END_VERBS = new Set(['READ', 'RETURN']);

const SCOPE_TERMINATORS = new Set([
  'END-IF', 'END-EVALUATE', 'END-PERFORM', 'END-READ', 'END-WRITE', 'END-REWRITE', 'END-DELETE', 'END-START',
  'END-RETURN', 'END-SEARCH', 'END-STRING', 'END-UNSTRING', 'END-CALL', 'END-COMPUTE', 'END-ADD', 'END-SUBTRACT',
  'END-MULTIPLY', 'END-DIVIDE', 'END-ACCEPT', 'END-DISPLAY', 'END-XML', 'END-JSON', 'END-INVOKE',
]);

/** True when tokens[i] starts a statement. NEXT is only a verb in NEXT SENTENCE (READ … NEXT RECORD is not). */
function isVerbAt(tokens: Token[], i: number): boolean {
  const t = entryAt(tokens, i);
  if (!t) return false;
  if (t.kind === 'exec') return true;
  if (t.kind !== 'word' || !VERBS.has(t.upper)) return false;
  if (t.upper === 'NEXT') return tokens[i + 1]?.upper === 'SENTENCE';
  return true;
}

/** Renders tokens as COBOL text, keeping source adjacency (so `A(I)` stays `A(I)`). */
function renderTokens(tokens: Token[]): string {
  let out = '';
  let prev: Token | undefined;
  for (const t of tokens) {
    const text = t.kind === 'exec' ? `EXEC ${String(t.execKind)} ${t.text} END-EXEC`.replace(/\s+/g, ' ') : t.text;
    const adjacent = prev && !prev.copybook && !t.copybook && prev.line === t.line && prev.column + prev.text.length === t.column;
    out += out === '' || adjacent ? text : ' ' + text;
    prev = t;
  }
  return out;
}

/** Length of a conditional phrase starting at i (e.g. NOT ON SIZE ERROR → 4), 0 when none. */
function phraseLength(tokens: Token[], i: number, verb: string): number {
  const w = (k: number): string => (tokens[i + k]?.kind === 'word' ? tokens[i + k].upper : '');
  let k = 0;
  if (w(0) === 'NOT') k = 1;
  const a = w(k);
  if (a === 'AT' && (w(k + 1) === 'END' || w(k + 1) === 'END-OF-PAGE' || w(k + 1) === 'EOP')) return k + 2;
  if (a === 'END' && (AT_END_VERBS.has(verb) || verb === 'SEARCH')) return k + 1;
  if (a === 'END-OF-PAGE' || a === 'EOP') return k + 1;
  if (a === 'INVALID') return w(k + 1) === 'KEY' ? k + 2 : k + 1;
  if (a === 'ON' && w(k + 1) === 'SIZE' && w(k + 2) === 'ERROR') return k + 3;
  if (a === 'SIZE' && w(k + 1) === 'ERROR') return k + 2;
  if (a === 'ON' && (w(k + 1) === 'OVERFLOW' || w(k + 1) === 'EXCEPTION')) return k + 2;
  if ((a === 'OVERFLOW' || a === 'EXCEPTION') && verb !== 'DISPLAY') return k + 1;
  if (a === 'ON' && w(k + 1) === 'EXCEPTION') return k + 2;
  return 0;
}

function isScopeEnd(t: Token | undefined): boolean {
  return t?.kind === 'word' && SCOPE_TERMINATORS.has(t.upper);
}

export class StatementParser {
  private i: number;

  constructor(
    private readonly tokens: Token[],
    start: number,
    private readonly end: number,
    private readonly diagnostics: Diagnostic[],
  ) {
    this.i = start;
  }

  get position(): number {
    return this.i;
  }

  /** Parses sentences until `end`; stray tokens are reported and skipped. */
  parseSentences(): Statement[] {
    const out: Statement[] = [];
    while (this.i < this.end) {
      const t = this.tokens[this.i];
      if (t.kind === 'period') {
        this.i++;
        continue;
      }
      if (isVerbAt(this.tokens, this.i)) {
        out.push(...this.parseBlock());
        continue;
      }
      this.report(t, 'error', `unexpected '${t.text}': expected a statement`);
      this.i++;
      while (this.i < this.end && !isVerbAt(this.tokens, this.i) && this.tokens[this.i].kind !== 'period') this.i++;
    }
    return out;
  }

  private report(t: Token, severity: Diagnostic['severity'], message: string): void {
    this.diagnostics.push({ line: t.line, column: t.column, severity, message, ...(t.copybook ? { copybook: t.copybook } : {}) });
  }

  private peek(k = 0): Token | undefined {
    return this.i + k < this.end ? this.tokens[this.i + k] : undefined;
  }

  private parseBlock(): Statement[] {
    const out: Statement[] = [];
    while (this.i < this.end && isVerbAt(this.tokens, this.i)) out.push(this.parseStatement());
    return out;
  }

  /** Operand tokens up to the next verb, period, scope terminator, ELSE/WHEN or conditional phrase. */
  private operands(verb: string, stopAtPhrases: boolean): Token[] {
    const out: Token[] = [];
    while (this.i < this.end) {
      const t = this.tokens[this.i];
      if (t.kind === 'period' || isVerbAt(this.tokens, this.i) || isScopeEnd(t)) break;
      if (t.kind === 'word' && (t.upper === 'ELSE' || t.upper === 'WHEN')) break;
      if (stopAtPhrases && phraseLength(this.tokens, this.i, verb) > 0) break;
      out.push(t);
      this.i++;
    }
    return out;
  }

  private lastLine(tokens: Token[], fallback: number): number {
    return tokens.length > 0 ? tokens[tokens.length - 1].endLine : fallback;
  }

  private consumeEnd(name: string, opener: Token, required: boolean): number | undefined {
    const t = this.peek();
    if (t?.kind === 'word' && t.upper === name) {
      this.i++;
      return t.line;
    }
    if (required) this.report(opener, 'error', `${opener.upper} without ${name}`);
    return undefined;
  }

  private parseStatement(): Statement {
    const t = this.tokens[this.i];
    if (t.kind === 'exec') {
      this.i++;
      return { verb: 'EXEC', line: t.line, endLine: t.endLine, text: renderTokens([t]) };
    }
    switch (t.upper) {
      case 'IF':
        return this.parseIf();
      case 'EVALUATE':
        return this.parseEvaluate();
      case 'PERFORM':
        return this.parsePerform();
      case 'SEARCH':
        return this.parseSearch();
      case 'NEXT':
        if (this.peek(1)?.upper === 'SENTENCE') {
          this.i += 2;
          return { verb: 'NEXT SENTENCE', line: t.line, endLine: t.line, text: 'NEXT SENTENCE' };
        }
        break;
    }
    this.i++;
    const verb = t.upper;
    // Every statement stops at a conditional phrase: inside AT END … the next phrase belongs to the outer verb.
    const ops = this.operands(verb, true);
    const stmt: Statement = { verb, line: t.line, endLine: this.lastLine(ops, t.endLine), text: renderTokens([t, ...ops]) };
    this.checkParens(t, ops);
    if (WITH_HANDLERS.has(verb)) {
      const handlers: NonNullable<Statement['handlers']> = [];
      for (;;) {
        const n = phraseLength(this.tokens, this.i, verb);
        if (n === 0 || this.i >= this.end) break;
        const phrase = this.tokens.slice(this.i, this.i + n).map((x) => x.upper).join(' ');
        this.i += n;
        const body = this.parseBlock();
        if (body.length === 0) this.report(this.tokens[this.i - 1], 'warning', `${phrase} without a statement`);
        handlers.push({ phrase, body });
        stmt.endLine = Math.max(stmt.endLine, ...body.map((b) => b.endLine));
      }
      if (handlers.length > 0) stmt.handlers = handlers;
      const endLine = this.consumeEnd(`END-${verb}`, t, false);
      if (endLine !== undefined) stmt.endLine = endLine;
    } else {
      const endLine = this.consumeEnd(`END-${verb}`, t, false);
      if (endLine !== undefined) stmt.endLine = endLine;
    }
    return stmt;
  }

  private checkParens(opener: Token, tokens: Token[]): void {
    let depth = 0;
    for (const x of tokens) {
      if (x.kind === 'lparen') depth++;
      else if (x.kind === 'rparen') depth--;
      if (depth < 0) break;
    }
    if (depth !== 0) this.report(opener, 'error', `unbalanced parentheses in ${opener.upper} statement`);
  }

  private conditionTokens(): Token[] {
    const out: Token[] = [];
    while (this.i < this.end) {
      const t = this.tokens[this.i];
      if (t.kind === 'period' || isVerbAt(this.tokens, this.i) || isScopeEnd(t)) break;
      if (t.kind === 'word' && (t.upper === 'THEN' || t.upper === 'ELSE' || t.upper === 'WHEN')) break;
      out.push(t);
      this.i++;
    }
    return out;
  }

  private parseIf(): Statement {
    const t = this.tokens[this.i++];
    const cond = this.conditionTokens();
    if (cond.length === 0) this.report(t, 'error', 'IF without a condition');
    if (this.peek()?.upper === 'THEN') this.i++;
    const stmt: Statement = { verb: 'IF', line: t.line, endLine: this.lastLine(cond, t.line), text: renderTokens([t, ...cond]), condition: renderTokens(cond) };
    stmt.then = this.parseBlock();
    if (stmt.then.length === 0 && this.peek()?.upper !== 'ELSE' && this.peek()?.upper !== 'END-IF') {
      const at = this.peek() ?? t;
      this.report(at, 'error', `IF without a statement (found '${at.text}')`);
    }
    if (this.peek()?.upper === 'ELSE') {
      this.i++;
      stmt.else = this.parseBlock();
    }
    const endLine = this.consumeEnd('END-IF', t, false);
    const bodies = [...stmt.then, ...(stmt.else ?? [])];
    stmt.endLine = endLine ?? Math.max(stmt.endLine, ...bodies.map((b) => b.endLine));
    return stmt;
  }

  private parseWhens(verb: string, opener: Token): NonNullable<Statement['whens']> {
    const whens: NonNullable<Statement['whens']> = [];
    while (this.peek()?.upper === 'WHEN') {
      const w = this.tokens[this.i++];
      const conditions: string[] = [renderTokens(this.conditionTokens())];
      // Consecutive WHENs without statements share the next body.
      while (this.peek()?.upper === 'WHEN' && verb === 'EVALUATE') {
        this.i++;
        conditions.push(renderTokens(this.conditionTokens()));
      }
      const body = this.parseBlock();
      if (body.length === 0) this.report(w, 'warning', `WHEN ${conditions.join(' ')} of ${opener.upper} has no statement`);
      whens.push({ line: w.line, conditions, body });
    }
    return whens;
  }

  private parseEvaluate(): Statement {
    const t = this.tokens[this.i++];
    const subjects = this.conditionTokens();
    const stmt: Statement = { verb: 'EVALUATE', line: t.line, endLine: t.line, text: renderTokens([t, ...subjects]) };
    stmt.whens = this.parseWhens('EVALUATE', t);
    if (stmt.whens.length === 0) this.report(t, 'error', 'EVALUATE without WHEN');
    const endLine = this.consumeEnd('END-EVALUATE', t, true);
    stmt.endLine = endLine ?? Math.max(t.line, ...stmt.whens.flatMap((w) => w.body.map((b) => b.endLine)));
    return stmt;
  }

  private parseSearch(): Statement {
    const t = this.tokens[this.i++];
    const ops = this.operands('SEARCH', true);
    const stmt: Statement = { verb: 'SEARCH', line: t.line, endLine: this.lastLine(ops, t.line), text: renderTokens([t, ...ops]) };
    const n = phraseLength(this.tokens, this.i, 'SEARCH');
    if (n > 0) {
      const phrase = this.tokens.slice(this.i, this.i + n).map((x) => x.upper).join(' ');
      this.i += n;
      stmt.handlers = [{ phrase, body: this.parseBlock() }];
    }
    stmt.whens = this.parseWhens('SEARCH', t);
    if (stmt.whens.length === 0) this.report(t, 'error', 'SEARCH without WHEN');
    const endLine = this.consumeEnd('END-SEARCH', t, false);
    stmt.endLine = endLine ?? Math.max(stmt.endLine, ...stmt.whens.flatMap((w) => w.body.map((b) => b.endLine)));
    return stmt;
  }

  private parsePerform(): Statement {
    const t = this.tokens[this.i++];
    const header = this.operands('PERFORM', false);
    const spec = performSpec(header);
    const stmt: Statement = { verb: 'PERFORM', line: t.line, endLine: this.lastLine(header, t.line), text: renderTokens([t, ...header]), perform: spec };
    if (spec.inline) {
      stmt.body = this.parseBlock();
      const endLine = this.consumeEnd('END-PERFORM', t, true);
      stmt.endLine = endLine ?? Math.max(stmt.endLine, ...stmt.body.map((b) => b.endLine));
    }
    return stmt;
  }
}

const PERFORM_KEYWORDS = new Set(['UNTIL', 'VARYING', 'WITH', 'TEST', 'TIMES', 'FOREVER']);

/** Splits a PERFORM header into target / THRU / TIMES / UNTIL / VARYING. */
function performSpec(header: Token[]): PerformSpec {
  let k = 0;
  const spec: PerformSpec = { inline: true };
  const first = entryAt(header, 0);
  if (first && (first.kind === 'word' || first.kind === 'number') && !PERFORM_KEYWORDS.has(first.upper) && header[1]?.upper !== 'TIMES') {
    spec.inline = false;
    spec.target = first.upper;
    k = 1;
    if (header[k]?.upper === 'THRU' || header[k]?.upper === 'THROUGH') {
      spec.thru = header[k + 1]?.upper;
      k += 2;
    }
  }
  if (header[k + 1]?.upper === 'TIMES') {
    spec.times = header[k].text;
    k += 2;
  }
  if (header[k]?.upper === 'WITH') k++;
  if (header[k]?.upper === 'TEST') {
    spec.testAfter = header[k + 1]?.upper === 'AFTER';
    k += 2;
  }
  if (header[k]?.upper === 'UNTIL') {
    spec.until = renderTokens(header.slice(k + 1));
    return spec;
  }
  if (header[k]?.upper === 'VARYING') {
    spec.varying = [];
    const rest = header.slice(k + 1);
    // VARYING a FROM x BY y UNTIL c [AFTER b FROM … BY … UNTIL …]…
    const groups: Token[][] = [[]];
    for (const tok of rest) {
      if (tok.upper === 'AFTER' && tok.kind === 'word') groups.push([]);
      else groups[groups.length - 1].push(tok);
    }
    for (const g of groups) {
      const idx = (w: string): number => g.findIndex((x) => x.kind === 'word' && x.upper === w);
      const from = idx('FROM');
      const by = idx('BY');
      const until = idx('UNTIL');
      spec.varying.push({
        variable: renderTokens(g.slice(0, from < 0 ? 1 : from)),
        from: from < 0 ? '' : renderTokens(g.slice(from + 1, by < 0 ? (until < 0 ? g.length : until) : by)),
        by: by < 0 ? '1' : renderTokens(g.slice(by + 1, until < 0 ? g.length : until)),
        until: until < 0 ? '' : renderTokens(g.slice(until + 1)),
      });
    }
  }
  return spec;
}
