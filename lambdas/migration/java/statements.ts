import type { Paragraph, Statement } from '../cobol/types';
import { tokenizeText, type Token } from '../cobol/tokenizer';
import { ExprParser, TranslateError, isNumeric, toDec, toLongCode, toStr, type Expr, type RefExpr } from './expressions';
import { classNameOf, type DataModel, type JNode } from './model';
import { commentText, javaString } from './names';
import { fromDecimal, initializeStatement, textOf } from './records';
import { entryAt } from '../cobol/lists';
import { mustGet } from '../cobol/maps';

export interface FileBinding {
  name: string;
  field: string;
  record?: JNode;
  status?: JNode;
}

export interface CallTarget {
  program: string;
  iface: string;
  field: string;
  /** Java parameter type lists, one per distinct USING shape. */
  signatures: string[][];
}

export interface ProgramContext {
  model: DataModel;
  fileName: string;
  /** Paragraph and section methods by COBOL name. */
  methods: Map<string, string>;
  /** Paragraph names in source order, for PERFORM THRU ranges and fall-through. */
  order: string[];
  paragraphs: Map<string, Paragraph>;
  files: Map<string, FileBinding>;
  calls: Map<string, CallTarget>;
  /** Sections: their paragraphs in order. */
  sections: Map<string, string[]>;
  keyOf: Map<Paragraph, string>;
}

const IND = '    ';

/** Translates paragraph bodies statement by statement; whatever it cannot translate becomes a TODO comment. */
export class StatementTranslator {
  todos = 0;
  private temp = 0;
  private current?: Paragraph;

  constructor(private readonly ctx: ProgramContext) {}

  paragraph(p: Paragraph, ind: string): string[] {
    this.current = p;
    this.temp = 0;
    return this.block(p.statements, ind, true);
  }

  private block(stmts: Statement[], ind: string, top = false): string[] {
    const out: string[] = [];
    stmts.forEach((s, i) => out.push(...this.statement(s, ind, top && i === stmts.length - 1)));
    return out;
  }

  private todo(s: Statement, ind: string, why: string): string[] {
    this.todos++;
    return [
      `${ind}// TODO(agentplane): ${commentText(why)} (${commentText(this.ctx.fileName)} line ${s.line})`,
      `${ind}//   ${commentText(s.text.length > 200 ? s.text.slice(0, 200) + '...' : s.text)}`,
    ];
  }

  private parser(text: string, skip = 1): ExprParser {
    const p = new ExprParser(tokenizeText(text), this.ctx.model);
    p.pos = skip;
    return p;
  }

  statement(s: Statement, ind: string, lastInParagraph = false): string[] {
    try {
      return this.translate(s, ind, lastInParagraph);
    } catch (e) {
      if (e instanceof TranslateError) return this.todo(s, ind, `${s.verb}: ${e.message}`);
      throw e;
    }
  }

  private translate(s: Statement, ind: string, last: boolean): string[] {
    const trace = `${ind}// ${s.line}: ${commentText(s.text.length > 100 ? s.text.slice(0, 100) + '...' : s.text)}`;
    switch (s.verb) {
      case 'MOVE':
        return [trace, ...this.move(s, ind)];
      case 'COMPUTE':
        return [trace, ...this.compute(s, ind)];
      case 'ADD':
      case 'SUBTRACT':
      case 'MULTIPLY':
      case 'DIVIDE':
        return [trace, ...this.arithmetic(s, ind)];
      case 'IF':
        return this.ifStatement(s, ind);
      case 'EVALUATE':
        return this.evaluate(s, ind);
      case 'PERFORM':
        return [trace, ...this.perform(s, ind)];
      case 'DISPLAY':
        return [trace, ...this.display(s, ind)];
      case 'CONTINUE':
        return [`${ind}// ${s.line}: CONTINUE`];
      case 'EXIT':
        return this.exit(s, ind, last);
      case 'GOBACK':
        return [trace, `${ind}Cobol.goback();`];
      case 'STOP':
        if (/^STOP RUN$/i.test(s.text)) return [trace, `${ind}Cobol.stopRun(returnCode);`];
        return this.todo(s, ind, 'STOP with a literal');
      case 'GO':
        return this.goTo(s, ind, last);
      case 'SET':
        return [trace, ...this.set(s, ind)];
      case 'INITIALIZE':
        return [trace, ...this.initialize(s, ind)];
      case 'CALL':
        return [trace, ...this.call(s, ind)];
      case 'ACCEPT':
        return [trace, ...this.accept(s, ind)];
      case 'OPEN':
      case 'CLOSE':
      case 'READ':
      case 'WRITE':
      case 'REWRITE':
        return [trace, ...this.fileStatement(s, ind)];
      case 'NEXT SENTENCE':
        return this.todo(s, ind, 'NEXT SENTENCE jumps past the next period');
      case 'EXEC':
        return this.todo(s, ind, 'embedded EXEC block needs a data-access / transaction translation');
      default:
        return this.todo(s, ind, `${s.verb} is not translated by the deterministic generator`);
    }
  }

  // ---- assignment helpers ----

  /** Assigns a source expression to a target reference with MOVE semantics. */
  private assign(target: Expr, source: Expr, rounded = false): string {
    const n = target.node;
    if (!n) throw new TranslateError('target is not a data item');
    if (target.refMod) {
      if (n.type !== 'String') throw new TranslateError('reference modification of a non-alphanumeric target');
      const len = target.refMod.length ?? `${n.length} - ${target.refMod.start} + 1`;
      return `${target.code} = Cobol.overlay(${target.code}, ${target.refMod.start}, ${len}, ${toStr(source, len)});`;
    }
    switch (n.type) {
      case 'group':
        if (source.type === 'group') return `${target.code}.fromText(${source.code}.toText());`;
        return `${target.code}.fromText(${toStr(source, `${n.length}`)});`;
      case 'String':
        if (n.editPic && (isNumeric(source) || (source.type === 'fig' && source.fig === 'ZERO'))) {
          return `${target.code} = Cobol.edit(${toDec(source)}, ${javaString(n.editPic)});`;
        }
        return `${target.code} = ${n.justified ? 'Cobol.fitRight' : 'Cobol.fit'}(${toStr(source, `${n.length}`)}, ${n.length});`;
      default:
        if (source.type === 'fig' && source.fig !== 'ZERO') {
          if (source.fig === 'SPACE' || source.fig === 'LOW-VALUE' || source.fig === 'HIGH-VALUE') return initializeStatement(n, target.code);
          throw new TranslateError(`MOVE ${String(source.fig)} to a numeric item`);
        }
        if (source.type === 'str' && source.node?.editPic === undefined && source.node) {
          return `${target.code} = ${fromDecimal(n, `Cobol.parseNum(${source.code}, ${n.scale})`)};`;
        }
        return `${target.code} = ${fromDecimal(n, toDec(source), rounded)};`;
    }
  }

  private targets(p: ExprParser, stopWords: string[] = []): Array<{ target: RefExpr; rounded: boolean }> {
    const out: Array<{ target: RefExpr; rounded: boolean }> = [];
    while (!p.atEnd() && !stopWords.some((w) => p.at(w))) {
      const target = p.reference();
      const rounded = p.accept('ROUNDED');
      out.push({ target, rounded });
    }
    if (out.length === 0) throw new TranslateError('no receiving item');
    return out;
  }

  private move(s: Statement, ind: string): string[] {
    const p = this.parser(s.text);
    if (p.at('CORRESPONDING') || p.at('CORR')) throw new TranslateError('MOVE CORRESPONDING');
    const source = p.operand();
    p.expect('TO');
    return this.targets(p).map(({ target }) => `${ind}${this.assign(target, source)}`);
  }

  /** Computes into targets, honouring ROUNDED and ON SIZE ERROR handlers. */
  private store(ind: string, value: string, targets: Array<{ target: RefExpr; rounded: boolean }>, s: Statement): string[] {
    const sizeError = s.handlers?.find((h) => /^(ON )?SIZE ERROR$/.test(h.phrase));
    const notSizeError = s.handlers?.find((h) => /^NOT (ON )?SIZE ERROR$/.test(h.phrase));
    const out: string[] = [];
    const v = `v$${++this.temp}`;
    out.push(`${ind}BigDecimal ${v} = ${value};`);
    const assigns = targets.map(({ target, rounded }) => this.assign(target, { code: v, type: 'dec' }, rounded));
    if (!sizeError && !notSizeError) return [...out, ...assigns.map((a) => `${ind}${a}`)];
    const fits = targets
      .map(({ target }) => target.node)
      .filter((n) => n.type !== 'String' && n.type !== 'group' && n.type !== 'double')
      .map((n) => `Cobol.fits(${v}, ${n.digits}, ${n.scale})`);
    out.push(`${ind}if (!(${fits.join(' && ') || 'Cobol.fits(' + v + ', 38, 0)'})) {`);
    out.push(...this.block(sizeError?.body ?? [], ind + IND));
    out.push(`${ind}} else {`);
    out.push(...assigns.map((a) => `${ind}${IND}${a}`));
    out.push(...this.block(notSizeError?.body ?? [], ind + IND));
    out.push(`${ind}}`);
    return out;
  }

  private compute(s: Statement, ind: string): string[] {
    const p = this.parser(s.text);
    const targets = this.targets(p, ['=', 'EQUAL']);
    p.accept('=', 'EQUAL');
    const value = p.arith();
    p.expectEnd('COMPUTE');
    return this.store(ind, toDec(value), targets, s);
  }

  private operands(p: ExprParser): Expr[] {
    const out: Expr[] = [];
    while (!p.atEnd() && !p.atStopWord()) out.push(p.operand());
    if (out.length === 0) throw new TranslateError('missing operand');
    return out;
  }

  private arithmetic(s: Statement, ind: string): string[] {
    const p = this.parser(s.text);
    if (p.at('CORRESPONDING') || p.at('CORR')) throw new TranslateError(`${s.verb} CORRESPONDING`);
    const sum = (xs: Expr[]): string => xs.map(toDec).reduce((a, b) => `${a}.add(${b})`);
    const out: string[] = [];
    const per = (targets: Array<{ target: RefExpr; rounded: boolean }>, value: (t: Expr) => string): void => {
      for (const t of targets) out.push(...this.store(ind, value(t.target), [t], s));
    };
    if (s.verb === 'ADD' || s.verb === 'SUBTRACT') {
      const xs = this.operands(p);
      const add = s.verb === 'ADD';
      if (p.accept(add ? 'TO' : 'FROM')) {
        if (p.at('GIVING')) throw new TranslateError('unexpected GIVING');
        const into = this.targets(p, ['GIVING']);
        if (p.accept('GIVING')) {
          const base = toDec(into[0].target);
          const giving = this.targets(p);
          return this.store(ind, add ? `${base}.add(${sum(xs)})` : `${base}.subtract(${sum(xs)})`, giving, s);
        }
        per(into, (t) => (add ? `${toDec(t)}.add(${sum(xs)})` : `${toDec(t)}.subtract(${sum(xs)})`));
        return out;
      }
      if (add && p.accept('GIVING')) return this.store(ind, sum(xs), this.targets(p), s);
      throw new TranslateError(`${s.verb} without ${add ? 'TO/GIVING' : 'FROM'}`);
    }
    if (s.verb === 'MULTIPLY') {
      const a = p.operand();
      p.expect('BY');
      if (this.lookAheadGiving(p)) {
        const b = p.operand();
        p.expect('GIVING');
        return this.store(ind, `${toDec(a)}.multiply(${toDec(b)})`, this.targets(p), s);
      }
      per(this.targets(p), (t) => `${toDec(t)}.multiply(${toDec(a)})`);
      return out;
    }
    // DIVIDE a INTO b [GIVING c] [REMAINDER r] | DIVIDE a BY b GIVING c [REMAINDER r]
    const a = p.operand();
    const into = p.accept('INTO');
    if (!into) p.expect('BY');
    if (this.lookAheadGiving(p)) {
      const b = p.operand();
      p.expect('GIVING');
      const [dividend, divisor] = into ? [b, a] : [a, b];
      const giving = this.targets(p, ['REMAINDER']);
      const quotient = `Cobol.div(${toDec(dividend)}, ${toDec(divisor)})`;
      out.push(...this.store(ind, quotient, giving, s));
      if (p.accept('REMAINDER')) {
        const rem = p.reference();
        const q = giving[0].target;
        out.push(`${ind}${this.assign(rem, { code: `${toDec(dividend)}.subtract(${toDec(q)}.multiply(${toDec(divisor)}))`, type: 'dec' })}`);
      }
      return out;
    }
    if (!into) throw new TranslateError('DIVIDE BY without GIVING');
    per(this.targets(p), (t) => `Cobol.div(${toDec(t)}, ${toDec(a)})`);
    return out;
  }

  private lookAheadGiving(p: ExprParser): boolean {
    const save = p.pos;
    try {
      p.operand();
      return p.at('GIVING');
    } catch {
      return false;
    } finally {
      p.pos = save;
    }
  }

  // ---- control flow ----

  private condition(text: string): string {
    const p = this.parser(text, 0);
    const c = p.condition();
    p.expectEnd('condition');
    return c;
  }

  private ifStatement(s: Statement, ind: string): string[] {
    let cond: string;
    try {
      cond = this.condition(s.condition ?? '');
    } catch (e) {
      if (!(e instanceof TranslateError)) throw e;
      // The branches may still translate; only the test is left to a human.
      return [
        ...this.todo(s, ind, `IF condition: ${e.message}`),
        `${ind}if (false) {`,
        ...this.block(s.then ?? [], ind + IND),
        ...(s.else && s.else.length > 0 ? [`${ind}} else {`, ...this.block(s.else, ind + IND)] : []),
        `${ind}}`,
      ];
    }
    const out = [`${ind}// ${s.line}: ${commentText(s.text)}`, `${ind}if (${cond}) {`, ...this.block(s.then ?? [], ind + IND)];
    if (s.else && s.else.length > 0) {
      if (s.else.length === 1 && s.else[0].verb === 'IF') {
        const inner = this.statement(s.else[0], ind);
        const start = inner.findIndex((l) => l.trimStart().startsWith('if ('));
        if (start >= 0) {
          out.push(...inner.slice(0, start).map((l) => l.replace(ind, ind + IND)));
          out.push(`${ind}} else ${inner[start].trimStart()}`, ...inner.slice(start + 1));
          return out;
        }
      }
      out.push(`${ind}} else {`, ...this.block(s.else, ind + IND));
    }
    out.push(`${ind}}`);
    return out;
  }

  private evaluate(s: Statement, ind: string): string[] {
    const p = this.parser(s.text);
    const subjects: Array<Expr | 'TRUE' | 'FALSE'> = [];
    for (;;) {
      if (p.accept('TRUE')) subjects.push('TRUE');
      else if (p.accept('FALSE')) subjects.push('FALSE');
      else subjects.push(p.arith());
      if (!p.accept('ALSO')) break;
    }
    p.expectEnd('EVALUATE subject');
    const out = [`${ind}// ${s.line}: ${commentText(s.text)}`];
    let first = true;
    for (const w of s.whens ?? []) {
      const isOther = w.conditions.some((c) => c.toUpperCase() === 'OTHER');
      const tests = isOther ? [] : w.conditions.map((c) => this.whenTest(subjects, c));
      const body = this.block(w.body, ind + IND);
      if (isOther) {
        out.push(first ? `${ind}{` : `${ind}} else {`, ...body);
      } else {
        const test = tests.length === 1 ? tests[0] : tests.map((t) => `(${t})`).join(' || ');
        out.push(`${ind}${first ? '' : '} else '}if (${test}) {`, ...body);
      }
      first = false;
    }
    if (!first) out.push(`${ind}}`);
    return out;
  }

  private whenTest(subjects: Array<Expr | 'TRUE' | 'FALSE'>, text: string): string {
    const objects = splitAlso(tokenizeText(text));
    if (objects.length !== subjects.length) throw new TranslateError(`WHEN ${text}: ${objects.length} object(s) for ${subjects.length} subject(s)`);
    const parts = objects.map((toks, i) => {
      const subject = subjects[i];
      if (toks.length === 1 && toks[0].upper === 'ANY') return undefined;
      const p = new ExprParser(toks, this.ctx.model);
      let negate = false;
      if (subject === 'TRUE' || subject === 'FALSE') {
        const c = p.condition();
        p.expectEnd('WHEN');
        return subject === 'TRUE' ? c : `!(${c})`;
      }
      if (p.accept('NOT')) negate = true;
      const from = p.arith();
      let test: string;
      if (p.accept('THRU') || p.accept('THROUGH')) {
        const to = p.arith();
        test = `${p.relation(subject, '>=', from)} && ${p.relation(subject, '<=', to)}`;
      } else test = p.relation(subject, '==', from);
      p.expectEnd('WHEN');
      return negate ? `!(${test})` : test;
    });
    const used = parts.filter((x): x is string => x !== undefined);
    if (used.length === 0) return 'Cobol.isNumeric(BigDecimal.ZERO)';
    return used.length === 1 ? used[0] : used.map((x) => (x.includes('||') ? `(${x})` : x)).join(' && ');
  }

  private calls(name: string, thru: string | undefined): string[] {
    const method = this.ctx.methods.get(name);
    if (!method) throw new TranslateError(`PERFORM target ${name} not found`);
    if (!thru) return [`${method}();`];
    const sectionA = this.ctx.sections.get(name);
    const from = this.ctx.order.indexOf(sectionA ? sectionA[0] ?? name : name);
    const thruSection = this.ctx.sections.get(thru);
    const to = this.ctx.order.indexOf(thruSection ? thruSection[thruSection.length - 1] ?? thru : thru);
    if (from < 0 || to < 0 || to < from) throw new TranslateError(`PERFORM ${name} THRU ${thru}: range not found`);
    return this.ctx.order.slice(from, to + 1).map((n) => `${mustGet(this.ctx.methods, n, 'method')}();`);
  }

  private perform(s: Statement, ind: string): string[] {
    const spec = s.perform;
    // The statement parser gives every PERFORM its spec.
    if (!spec) throw new Error(`internal error: PERFORM at line ${s.line} has no parsed spec`);
    const body = spec.inline ? this.block(s.body ?? [], ind + IND) : this.calls(performTarget(spec.target), spec.thru).map((c) => `${ind}${IND}${c}`);
    if (spec.varying && spec.varying.length > 0) return this.varying(spec.varying, 0, body, ind, spec.testAfter ?? false);
    if (spec.until) {
      const cond = this.condition(spec.until);
      if (spec.testAfter) return [`${ind}do {`, ...body, `${ind}} while (!(${cond}));`];
      return [`${ind}while (!(${cond})) {`, ...body, `${ind}}`];
    }
    if (spec.times) {
      const p = this.parser(spec.times, 0);
      const count = toLongCode(p.arith());
      const i = `n$${++this.temp}`;
      return [`${ind}for (long ${i} = ${count}; ${i} > 0; ${i}--) {`, ...body, `${ind}}`];
    }
    if (spec.inline) return [`${ind}{`, ...body, `${ind}}`];
    return body.map((l) => l.replace(ind + IND, ind));
  }

  private varying(v: NonNullable<Statement['perform']>['varying'] & object, k: number, body: string[], ind: string, testAfter: boolean): string[] {
    const clause = v[k];
    const p = this.parser(clause.variable, 0);
    const variable = p.reference();
    const from = this.parser(clause.from, 0).arith();
    const by = this.parser(clause.by, 0).arith();
    const cond = this.condition(clause.until);
    const inner = k + 1 < v.length ? this.varying(v, k + 1, body, ind + IND, testAfter) : body;
    const init = `${ind}${this.assign(variable, from)}`;
    const step = `${ind}${IND}${this.assign(variable, { code: `${toDec(variable)}.add(${toDec(by)})`, type: 'dec' })}`;
    if (testAfter) return [init, `${ind}do {`, ...inner, step, `${ind}} while (!(${cond}));`];
    return [init, `${ind}while (!(${cond})) {`, ...inner, step, `${ind}}`];
  }

  private nextParagraph(): string | undefined {
    if (!this.current) return undefined;
    const i = this.ctx.order.indexOf(this.ctx.keyOf.get(this.current) ?? this.current.name);
    const next = i >= 0 ? this.ctx.order[i + 1] : undefined;
    return next === undefined ? undefined : this.ctx.paragraphs.get(next)?.name;
  }

  private isTerminal(name: string): boolean {
    const p = this.ctx.paragraphs.get(name);
    const last = p?.statements[p.statements.length - 1];
    return last !== undefined && (last.verb === 'GOBACK' || /^STOP RUN$/i.test(last.text) || /^EXIT PROGRAM$/i.test(last.text));
  }

  private ret(ind: string, last: boolean, why: string): string[] {
    return [last ? `${ind}return; // ${why}` : `${ind}if (true) return; // ${why}`];
  }

  private goTo(s: Statement, ind: string, last: boolean): string[] {
    const toks = tokenizeText(s.text).slice(1).filter((t) => t.upper !== 'TO');
    if (toks.length === 1 && (toks[0].kind === 'word' || toks[0].kind === 'number')) {
      const target = toks[0].upper;
      const trace = `${ind}// ${s.line}: ${commentText(s.text)}`;
      // Falling into the next paragraph is what returning from this one does, in any PERFORM range.
      if (target === this.nextParagraph()) return [trace, ...this.ret(ind, last, `continues with ${target}`)];
      if (this.isTerminal(target) && this.ctx.methods.has(target)) return [trace, `${ind}${mustGet(this.ctx.methods, target, 'method')}();`];
    }
    return [...this.todo(s, ind, 'GO TO needs restructuring into structured control flow'), `${ind}Cobol.unsupported(${javaString(s.text)});`];
  }

  private exit(s: Statement, ind: string, last: boolean): string[] {
    const u = s.text.toUpperCase();
    if (u === 'EXIT') return [`${ind}// ${s.line}: EXIT`];
    if (u === 'EXIT PROGRAM') return [`${ind}// ${s.line}: EXIT PROGRAM`, `${ind}Cobol.goback();`];
    if (u === 'EXIT PARAGRAPH') return [`${ind}// ${s.line}: EXIT PARAGRAPH`, ...this.ret(ind, last, 'EXIT PARAGRAPH')];
    return this.todo(s, ind, `${s.text} is not translated`);
  }

  // ---- data statements ----

  private set(s: Statement, ind: string): string[] {
    const p = this.parser(s.text);
    const toks = tokenizeText(s.text);
    const toIndex = toks.findIndex((t) => t.upper === 'TO' || t.upper === 'UP' || t.upper === 'DOWN');
    if (toIndex < 0) throw new TranslateError('SET without TO / UP BY / DOWN BY');
    const kw = toks[toIndex].upper;
    if (kw === 'TO' && toks[toIndex + 1]?.upper === 'TRUE') {
      const out: string[] = [];
      while (!p.at('TO')) {
        const name = p.peek();
        if (!name || name.kind !== 'word') throw new TranslateError('SET … TO TRUE needs condition names');
        p.pos++;
        const sym = p.condSymbol(name.upper, []);
        const owner = p.ownerCode(sym.node);
        let arg = '';
        if (sym.node.occurs !== undefined) {
          if (p.peek()?.kind !== 'lparen') throw new TranslateError(`${name.upper} needs a subscript`);
          p.pos++;
          arg = `(int) (${toLongCode(p.arith())})`;
          p.pos++;
        }
        out.push(`${ind}${owner}${sym.setMethod}(${arg});`);
      }
      return out;
    }
    if (kw === 'TO' && toks[toIndex + 1]?.upper === 'FALSE') throw new TranslateError('SET … TO FALSE');
    const targets: Expr[] = [];
    while (!p.at('TO') && !p.at('UP') && !p.at('DOWN')) targets.push(p.reference());
    p.pos++;
    if (kw !== 'TO') p.expect('BY');
    if (p.at('ADDRESS')) throw new TranslateError('SET ADDRESS');
    const value = p.arith();
    return targets.map((t) => {
      if (kw === 'TO') return `${ind}${this.assign(t, value)}`;
      const op = kw === 'UP' ? 'add' : 'subtract';
      return `${ind}${this.assign(t, { code: `${toDec(t)}.${op}(${toDec(value)})`, type: 'dec' })}`;
    });
  }

  private initialize(s: Statement, ind: string): string[] {
    const p = this.parser(s.text);
    const out: string[] = [];
    while (!p.atEnd()) {
      if (p.at('REPLACING') || p.at('WITH')) throw new TranslateError('INITIALIZE … REPLACING');
      const t = p.reference();
      if (t.refMod) throw new TranslateError('INITIALIZE of a reference modification');
      out.push(`${ind}${initializeStatement(t.node, t.code)}`);
    }
    return out;
  }

  private display(s: Statement, ind: string): string[] {
    const p = this.parser(s.text);
    const parts: string[] = [];
    let advancing = true;
    while (!p.atEnd()) {
      if (p.accept('UPON')) {
        p.pos++;
        continue;
      }
      if (p.at('WITH') || p.at('NO')) {
        p.accept('WITH');
        p.expect('NO');
        p.accept('ADVANCING');
        advancing = false;
        continue;
      }
      const e = p.operand();
      parts.push(e.type === 'fig' ? toStr(e, '1') : toStr(e));
    }
    return [`${ind}Cobol.${advancing ? 'display' : 'displayNoAdvancing'}(${parts.join(', ')});`];
  }

  private accept(s: Statement, ind: string): string[] {
    const p = this.parser(s.text);
    const target = p.reference();
    if (!p.accept('FROM')) return [`${ind}${this.assign(target, { code: 'Cobol.acceptLine()', type: 'str' })}`];
    const what = p.peek()?.upper ?? '';
    p.pos++;
    if (what === 'SYSIN' || what === 'CONSOLE') return [`${ind}${this.assign(target, { code: 'Cobol.acceptLine()', type: 'str' })}`];
    if (!['DATE', 'DAY', 'TIME', 'DAY-OF-WEEK'].includes(what)) throw new TranslateError(`ACCEPT FROM ${what}`);
    const next = p.peek()?.upper;
    const format = next === 'YYYYMMDD' || next === 'YYYYDDD' ? ` ${next}` : '';
    return [`${ind}${this.assign(target, { code: `Cobol.acceptDate(${javaString(what + format)})`, type: 'long' })}`];
  }

  private call(s: Statement, ind: string): string[] {
    const toks = tokenizeText(s.text);
    const targetTok = entryAt(toks, 1);
    if (!targetTok || targetTok.kind !== 'string') throw new TranslateError('dynamic CALL through an identifier');
    if (s.handlers && s.handlers.length > 0) throw new TranslateError('CALL with ON EXCEPTION');
    const program = targetTok.upper.trim().toUpperCase();
    const target = this.ctx.calls.get(program);
    if (!target) throw new TranslateError(`CALL ${program} has no interface`);
    const p = new ExprParser(toks, this.ctx.model);
    p.pos = 2;
    const args: string[] = [];
    const types: string[] = [];
    if (p.accept('USING')) {
      while (!p.atEnd()) {
        if (p.accept('BY')) {
          p.accept('REFERENCE', 'CONTENT', 'VALUE');
          continue;
        }
        if (p.at('RETURNING')) throw new TranslateError('CALL … RETURNING');
        const e = p.operand();
        if (!e.node || e.refMod) throw new TranslateError('CALL argument is not a data item');
        args.push(e.code);
        types.push(argType(e.node));
      }
    }
    const key = types.join(',');
    if (!target.signatures.some((sig) => sig.join(',') === key)) target.signatures.push(types);
    return [`${ind}Cobol.require(${target.field}, ${javaString(program)}).call(${args.join(', ')});`];
  }

  // ---- files ----

  private file(name: string): FileBinding {
    const f = this.ctx.files.get(name);
    if (!f) throw new TranslateError(`file ${name} is not declared`);
    return f;
  }

  private status(f: FileBinding, ind: string): string[] {
    return f.status ? [`${ind}${statusAssign(f, f.status)}`] : [];
  }

  private fileStatement(s: Statement, ind: string): string[] {
    const toks = tokenizeText(s.text);
    const out: string[] = [];
    if (s.verb === 'OPEN') {
      let mode = '';
      for (const t of toks.slice(1)) {
        if (['INPUT', 'OUTPUT', 'I-O', 'EXTEND'].includes(t.upper)) mode = t.upper;
        else if (t.kind === 'word' && mode) {
          const f = this.file(t.upper);
          out.push(`${ind}${f.field}.open(${javaString(mode)});`, ...this.status(f, ind));
        }
      }
      return out;
    }
    if (s.verb === 'CLOSE') {
      for (const t of toks.slice(1)) {
        if (t.kind !== 'word' || ['WITH', 'LOCK', 'NO', 'REWIND'].includes(t.upper)) continue;
        const f = this.file(t.upper);
        out.push(`${ind}${f.field}.close();`, ...this.status(f, ind));
      }
      return out;
    }
    if (s.verb === 'READ') {
      const f = this.file(toks[1]?.upper ?? '');
      if (toks.some((t) => t.upper === 'KEY') || s.handlers?.some((h) => h.phrase.includes('INVALID'))) {
        throw new TranslateError('keyed READ needs an indexed-file adapter');
      }
      if (!f.record) throw new TranslateError(`file ${f.name} has no record`);
      const intoAt = toks.findIndex((t) => t.upper === 'INTO');
      const rec = `r$${++this.temp}`;
      out.push(`${ind}String ${rec} = ${f.field}.read();`, ...this.status(f, ind));
      const atEnd = s.handlers?.find((h) => /^(AT )?END$/.test(h.phrase));
      const notAtEnd = s.handlers?.find((h) => /^NOT (AT )?END$/.test(h.phrase));
      const load = [`${ind}${IND}${recordFromText(f.record, rec)}`];
      if (intoAt >= 0) {
        const p = new ExprParser(toks, this.ctx.model);
        p.pos = intoAt + 1;
        const into = p.reference();
        load.push(`${ind}${IND}${this.assign(into, { code: rec, type: 'str' })}`);
      }
      out.push(`${ind}if (${rec} == null) {`, ...this.block(atEnd?.body ?? [], ind + IND), `${ind}} else {`, ...load, ...this.block(notAtEnd?.body ?? [], ind + IND), `${ind}}`);
      return out;
    }
    // WRITE / REWRITE record [FROM x] [ADVANCING …]
    if (s.handlers?.some((h) => h.phrase.includes('INVALID'))) throw new TranslateError(`keyed ${s.verb} needs an indexed-file adapter`);
    const p = new ExprParser(toks, this.ctx.model);
    p.pos = 1;
    const record = p.reference();
    const f = [...this.ctx.files.values()].find((x) => x.record === record.node);
    if (!f) throw new TranslateError(`${record.node.item.name} is not a file record`);
    if (p.accept('FROM')) out.push(`${ind}${this.assign(record, p.operand())}`);
    out.push(`${ind}${f.field}.${s.verb === 'WRITE' ? 'write' : 'rewrite'}(${textOf(record.node, record.code)});`, ...this.status(f, ind));
    if (s.handlers?.length) throw new TranslateError(`${s.verb} with ${s.handlers[0].phrase}`);
    return out;
  }
}

function argType(n: JNode): string {
  if (n.occurs !== undefined) return n.type === 'group' ? `${classNameOf(n)}[]` : `${n.type}[]`;
  return n.type === 'group' ? classNameOf(n) : n.type;
}

function recordFromText(n: JNode, text: string): string {
  const access = chainAccess(n);
  if (n.type === 'group') return `${access}.fromText(${text});`;
  if (n.type === 'String') return `${access} = Cobol.fit(${text}, ${n.length});`;
  return `${access} = ${fromDecimal(n, `Cobol.parseNum(${text}, ${n.scale})`)};`;
}

function chainAccess(n: JNode): string {
  const parts: string[] = [];
  for (let x: JNode | undefined = n; x; x = x.parent) parts.unshift(x.field);
  return parts.join('.');
}

function statusAssign(f: FileBinding, s: JNode): string {
  const access = chainAccess(s);
  if (s.type === 'String') return `${access} = Cobol.fit(${f.field}.status(), ${s.length});`;
  if (s.type === 'group') return `${access}.fromText(${f.field}.status());`;
  return `${access} = ${fromDecimal(s, `Cobol.num(${f.field}.status())`)};`;
}

function splitAlso(tokens: Token[]): Token[][] {
  const out: Token[][] = [[]];
  for (const t of tokens) {
    if (t.kind === 'word' && t.upper === 'ALSO') out.push([]);
    else out[out.length - 1].push(t);
  }
  return out;
}

/** The paragraph or section an out-of-line PERFORM names (the statement parser always records it). */
function performTarget(target: string | undefined): string {
  if (target === undefined) throw new TranslateError('PERFORM without a target');
  return target;
}
