import { figurative } from '../cobol/literals';
import type { Token } from '../cobol/tokenizer';
import { chain, type CondSymbol, type DataModel, type JNode } from './model';
import { javaString } from './names';

export class TranslateError extends Error {}

type EType = 'int' | 'long' | 'dec' | 'double' | 'str' | 'group' | 'fig';

export interface Expr {
  code: string;
  type: EType;
  /** Figurative constants: the canonical name; `all` holds the ALL literal's Java string. */
  fig?: string;
  all?: string;
  /** A plain numeric literal, as written. */
  literal?: string;
  /** Set when the expression is a (subscripted) data reference that can be assigned. */
  node?: JNode;
  /** Reference modification (start, length) codes, 1-based. */
  refMod?: { start: string; length?: string };
}

/** A data reference: an Expr that always names its node. */
export type RefExpr = Expr & { node: JNode };

const NUMERIC: EType[] = ['int', 'long', 'dec', 'double'];
export const isNumeric = (e: Expr): boolean => NUMERIC.includes(e.type);

function exprType(node: JNode): EType {
  switch (node.type) {
    case 'String':
      return 'str';
    case 'BigDecimal':
      return 'dec';
    case 'group':
      return 'group';
    default:
      return node.type;
  }
}

export function toDec(e: Expr): string {
  switch (e.type) {
    case 'dec':
      return e.code;
    case 'int':
    case 'long':
    case 'double':
      return `Cobol.dec(${e.code})`;
    case 'str':
      return `Cobol.num(${e.code})`;
    case 'group':
      return `Cobol.num(${e.code}.toText())`;
    case 'fig':
      if (e.fig === 'ZERO') return 'BigDecimal.ZERO';
      throw new TranslateError(`figurative ${String(e.fig)} used as a number`);
  }
}

/** `fig` is undefined only for a malformed Expr; it fails as an unknown constant would. */
function figChar(fig: string | undefined): string {
  switch (fig) {
    case 'SPACE':
      return "' '";
    case 'ZERO':
      return "'0'";
    case 'HIGH-VALUE':
      return "'\\uffff'";
    case 'LOW-VALUE':
    case 'NULL':
      return "'\\u0000'";
    case 'QUOTE':
      return "'\"'";
    default:
      throw new TranslateError(`unknown figurative constant ${String(fig)}`);
  }
}

/** Text of an expression; `length` sizes figurative constants. */
export function toStr(e: Expr, length?: string): string {
  switch (e.type) {
    case 'str':
      return e.code;
    case 'group':
      return `${e.code}.toText()`;
    case 'int':
    case 'long':
      return e.node ? `Cobol.numText(${e.code}, ${e.node.digits}, ${e.node.signed})` : `Cobol.str(${e.code})`;
    case 'dec':
      return e.node ? `Cobol.numText(${e.code}, ${e.node.digits}, ${e.node.scale}, ${e.node.signed})` : `Cobol.str(${e.code})`;
    case 'double':
      return `Cobol.str(${e.code})`;
    case 'fig':
      if (e.all) return `Cobol.all(${e.all}, ${length ?? `${e.all}.length()`})`;
      return `Cobol.fill(${figChar(e.fig)}, ${length ?? '1'})`;
  }
}

/** A 0-based Java array index from a COBOL subscript (occurrence number). */
function toIndex(e: Expr): string {
  if (e.literal !== undefined && /^\d+$/.test(e.literal)) return String(Number(e.literal) - 1);
  if (e.type === 'int') return `${e.code} - 1`;
  if (e.type === 'long') return `(int) ${e.code} - 1`;
  return `${toDec(e)}.intValue() - 1`;
}

/** A Java int/long-valued expression, for counts and reference modification. */
export function toLongCode(e: Expr): string {
  if (e.literal !== undefined && /^\d+$/.test(e.literal)) return e.literal;
  if (e.type === 'int' || e.type === 'long') return e.code;
  return `${toDec(e)}.longValue()`;
}

/** Each relational operator's negation (NOT >, NOT =, …). */
const NEGATION: Partial<Record<string, string>> = { '==': '!=', '>': '<=', '<': '>=', '>=': '<', '<=': '>' };
const REL_WORDS = new Set(['EQUAL', 'EQUALS', 'GREATER', 'LESS', '=', '>', '<', '>=', '<=', '<>']);
const ARITH_STOP = new Set(['TO', 'FROM', 'BY', 'GIVING', 'INTO', 'ROUNDED', 'REMAINDER', 'UNTIL', 'AFTER', 'TIMES', 'ALSO', 'THRU', 'THROUGH', 'AND', 'OR', 'NOT', 'IS', 'OF', 'IN', 'USING', 'DELIMITED', 'ON', 'SIZE', 'ERROR', 'UPON', 'WITH', 'NO', 'ADVANCING']);

/** Parses COBOL operands, arithmetic expressions and conditions from tokens into typed Java code. */
export class ExprParser {
  pos = 0;
  private subject?: Expr;
  private lastOp?: string;

  constructor(
    private readonly tokens: Token[],
    private readonly model: DataModel,
  ) {}

  peek(k = 0): Token | undefined {
    return this.tokens[this.pos + k];
  }

  at(word: string): boolean {
    const t = this.peek();
    return t !== undefined && (t.kind === 'word' || t.kind === 'operator') && t.upper === word;
  }

  atEnd(): boolean {
    return this.pos >= this.tokens.length;
  }

  /** Fails on a token left over after what `context` should have consumed. */
  expectEnd(context: string): void {
    const t = this.peek();
    if (t) throw new TranslateError(`unexpected ${t.text} in ${context}`);
  }

  expect(word: string): void {
    if (!this.at(word)) throw new TranslateError(`expected ${word}, found ${this.peek()?.text ?? 'end of statement'}`);
    this.pos++;
  }

  accept(...words: string[]): boolean {
    if (words.some((w) => this.at(w))) {
      this.pos++;
      return true;
    }
    return false;
  }

  // ---- operands ----

  resolve(name: string, qualifiers: string[]): JNode {
    const candidates = (this.model.byName.get(name) ?? []).filter((n) => {
      const ancestors = chain(n).slice(0, -1).map((a) => a.item.name).reverse();
      let k = 0;
      for (const q of qualifiers) {
        while (k < ancestors.length && ancestors[k] !== q) k++;
        if (k >= ancestors.length) return false;
        k++;
      }
      return true;
    });
    if (candidates.length === 0) throw new TranslateError(`unknown data name ${[name, ...qualifiers].join(' OF ')}`);
    if (candidates.length > 1) throw new TranslateError(`ambiguous reference to ${name}; qualify it`);
    return candidates[0];
  }

  private qualifiers(): string[] {
    const out: string[] = [];
    while (this.at('OF') || this.at('IN')) {
      const qualifier = this.peek(1);
      if (qualifier?.kind !== 'word') break;
      out.push(qualifier.upper);
      this.pos += 2;
    }
    return out;
  }

  /** Subscripts "(I J)" or "(I + 1)"; stops before a reference modification "(1:3)". */
  private subscripts(count: number): Expr[] {
    const out: Expr[] = [];
    if (count === 0 || this.peek()?.kind !== 'lparen' || this.isRefMod()) return out;
    this.pos++;
    while (this.before('rparen')) out.push(this.arith());
    this.expectParen();
    return out;
  }

  /** True while a token is left and it is not of `kind`: a list runs to its closing token or to the end. */
  private before(kind: Token['kind']): boolean {
    const t = this.peek();
    return t !== undefined && t.kind !== kind;
  }

  private expectParen(): void {
    if (this.peek()?.kind !== 'rparen') throw new TranslateError('expected )');
    this.pos++;
  }

  private isRefMod(): boolean {
    let depth = 0;
    for (let k = this.pos; k < this.tokens.length; k++) {
      const t = this.tokens[k];
      if (t.kind === 'lparen') depth++;
      else if (t.kind === 'rparen') {
        depth--;
        if (depth === 0) return false;
      } else if (t.text === ':' && depth === 1) return true;
    }
    return false;
  }

  /** A data reference: NAME [OF X]… [(subscripts)] [(start:length)]. */
  reference(): RefExpr {
    const t = this.peek();
    if (!t || t.kind !== 'word') throw new TranslateError(`expected a data name, found ${t?.text ?? 'end of statement'}`);
    this.pos++;
    const node = this.resolve(t.upper, this.qualifiers());
    const path = chain(node);
    const needed = path.filter((n) => n.occurs !== undefined).length;
    const subs = this.subscripts(needed);
    if (subs.length !== needed) throw new TranslateError(`${t.upper} needs ${needed} subscript(s)`);
    let code = '';
    let k = 0;
    for (const n of path) {
      code += code === '' ? n.field : `.${n.field}`;
      if (n.occurs !== undefined) code += `[${toIndex(subs[k++])}]`;
    }
    const e: RefExpr = { code, type: exprType(node), node };
    if (this.peek()?.kind === 'lparen' && this.isRefMod()) {
      this.pos++;
      const start = this.arith();
      if (this.peek()?.text !== ':') throw new TranslateError('expected : in reference modification');
      this.pos++;
      const length = this.peek()?.kind === 'rparen' ? undefined : this.arith();
      this.expectParen();
      e.refMod = { start: toLongCode(start), ...(length ? { length: toLongCode(length) } : {}) };
    }
    return e;
  }

  /** Reference, literal, figurative constant, FUNCTION call or LENGTH OF. */
  operand(): Expr {
    const t = this.peek();
    if (!t) throw new TranslateError('missing operand');
    if (t.kind === 'number') {
      this.pos++;
      const lit = t.text.replace(/^\+/, '');
      const code = /^-?\d{1,18}$/.test(lit) ? `Cobol.dec(${lit}L)` : `Cobol.dec(${javaString(lit)})`;
      return { code, type: 'dec', literal: lit };
    }
    if (t.kind === 'string') {
      this.pos++;
      if (t.prefix === 'X') {
        const bytes = t.upper.match(/../g) ?? [];
        return { code: javaString(bytes.map((b) => String.fromCharCode(parseInt(b, 16))).join('')), type: 'str' };
      }
      return { code: javaString(t.upper), type: 'str' };
    }
    if (t.kind === 'word') {
      if (t.upper === 'ALL' && this.peek(1)?.kind === 'string') {
        this.pos += 2;
        return { code: '', type: 'fig', fig: 'ALL', all: javaString(this.tokens[this.pos - 1].upper) };
      }
      const fig = figurative(t.upper);
      if (fig) {
        this.pos++;
        return { code: '', type: 'fig', fig };
      }
      if (t.upper === 'FUNCTION') return this.functionCall();
      if ((t.upper === 'LENGTH') && this.peek(1)?.upper === 'OF') {
        this.pos += 2;
        const ref = this.reference();
        const n = ref.node;
        return { code: `${n.length}`, type: 'int', literal: String(n.length) };
      }
      const e = this.reference();
      if (e.refMod) {
        const base = e.type === 'group' ? `${e.code}.toText()` : e.type === 'str' ? e.code : toStr(e);
        return { code: e.refMod.length ? `Cobol.substr(${base}, ${e.refMod.start}, ${e.refMod.length})` : `Cobol.substr(${base}, ${e.refMod.start})`, type: 'str' };
      }
      return e;
    }
    if (t.kind === 'lparen') {
      this.pos++;
      const e = this.arith();
      this.expectParen();
      return e;
    }
    throw new TranslateError(`unexpected ${t.text}`);
  }

  private functionCall(): Expr {
    this.pos++;
    const name = this.peek()?.upper;
    if (!name) throw new TranslateError('FUNCTION without a name');
    this.pos++;
    const args: Expr[] = [];
    if (this.peek()?.kind === 'lparen') {
      this.pos++;
      while (this.before('rparen')) args.push(this.arith());
      this.expectParen();
    }
    const a = (i: number): Expr => {
      if (!args[i]) throw new TranslateError(`FUNCTION ${name} needs more arguments`);
      return args[i];
    };
    switch (name) {
      case 'CURRENT-DATE':
        return { code: 'Cobol.currentDate()', type: 'str' };
      case 'INTEGER-OF-DATE':
        return { code: `Cobol.integerOfDate(${toLongCode(a(0))})`, type: 'long' };
      case 'DATE-OF-INTEGER':
        return { code: `Cobol.dateOfInteger(${toLongCode(a(0))})`, type: 'long' };
      case 'ABS':
        return { code: `${toDec(a(0))}.abs()`, type: 'dec' };
      case 'MOD':
        return { code: `Cobol.mod(${toDec(a(0))}, ${toDec(a(1))})`, type: 'dec' };
      case 'REM':
        return { code: `${toDec(a(0))}.remainder(${toDec(a(1))})`, type: 'dec' };
      case 'INTEGER':
      case 'INTEGER-PART':
        return { code: `${toDec(a(0))}.setScale(0, java.math.RoundingMode.${name === 'INTEGER' ? 'FLOOR' : 'DOWN'})`, type: 'dec' };
      case 'MAX':
      case 'MIN':
        if (args.length === 0) throw new TranslateError(`FUNCTION ${name} without arguments`);
        return { code: args.slice(1).reduce((acc, x) => `${acc}.${name.toLowerCase()}(${toDec(x)})`, toDec(args[0])), type: 'dec' };
      case 'NUMVAL':
      case 'NUMVAL-C':
        return { code: `Cobol.num(${toStr(a(0))})`, type: 'dec' };
      case 'UPPER-CASE':
        return { code: `${toStr(a(0))}.toUpperCase()`, type: 'str' };
      case 'LOWER-CASE':
        return { code: `${toStr(a(0))}.toLowerCase()`, type: 'str' };
      case 'TRIM':
        return { code: `${toStr(a(0))}.trim()`, type: 'str' };
      case 'REVERSE':
        return { code: `new StringBuilder(${toStr(a(0))}).reverse().toString()`, type: 'str' };
      case 'LENGTH':
        return { code: `${toStr(a(0))}.length()`, type: 'int' };
      case 'SQRT':
        return { code: `${toDec(a(0))}.sqrt(Cobol.MC)`, type: 'dec' };
      default:
        throw new TranslateError(`FUNCTION ${name} is not supported`);
    }
  }

  // ---- arithmetic ----

  /** Arithmetic expression; composite results are BigDecimal. */
  arith(): Expr {
    let left = this.term();
    for (;;) {
      const t = this.peek();
      if (t?.kind === 'operator' && (t.text === '+' || t.text === '-')) {
        this.pos++;
        const right = this.term();
        left = { code: `${toDec(left)}.${t.text === '+' ? 'add' : 'subtract'}(${toDec(right)})`, type: 'dec' };
      } else if (t?.kind === 'number' && /^[+-]/.test(t.text) && left.type !== 'fig') {
        // "A -1" is tokenized as A and a signed literal; COBOL reads it as a subtraction.
        this.pos++;
        const right: Expr = { code: `Cobol.dec(${javaString(t.text.slice(1))})`, type: 'dec', literal: t.text.slice(1) };
        left = { code: `${toDec(left)}.${t.text.startsWith('+') ? 'add' : 'subtract'}(${toDec(right)})`, type: 'dec' };
      } else return left;
    }
  }

  private term(): Expr {
    let left = this.factor();
    for (;;) {
      const t = this.peek();
      if (t?.kind === 'operator' && (t.text === '*' || t.text === '/')) {
        this.pos++;
        const right = this.factor();
        left = t.text === '*' ? { code: `${toDec(left)}.multiply(${toDec(right)})`, type: 'dec' } : { code: `Cobol.div(${toDec(left)}, ${toDec(right)})`, type: 'dec' };
      } else return left;
    }
  }

  private factor(): Expr {
    const t = this.peek();
    if (t?.kind === 'operator' && (t.text === '-' || t.text === '+')) {
      this.pos++;
      const inner = this.factor();
      return t.text === '-' ? { code: `${toDec(inner)}.negate()`, type: 'dec' } : inner;
    }
    let base = this.operand();
    while (this.atOperator('**')) {
      this.pos++;
      const exp = this.factor();
      base = { code: `Cobol.pow(${toDec(base)}, ${toDec(exp)})`, type: 'dec' };
    }
    return base;
  }

  private atOperator(text: string): boolean {
    const t = this.peek();
    return t?.kind === 'operator' && t.text === text;
  }

  // ---- conditions ----

  condition(): string {
    let left = this.andCondition();
    while (this.at('OR')) {
      this.pos++;
      left = `${left} || ${this.andCondition()}`;
    }
    return left;
  }

  private andCondition(): string {
    let left = this.notCondition();
    while (this.at('AND')) {
      this.pos++;
      const right = this.notCondition();
      left = `${wrapOr(left)} && ${wrapOr(right)}`;
    }
    return left;
  }

  private notCondition(): string {
    if (this.at('NOT') && !this.relOpAhead(0)) {
      this.pos++;
      return `!(${this.notCondition()})`;
    }
    return this.primaryCondition();
  }

  private relOpAhead(offset: number): boolean {
    const t = this.peek(offset);
    if (!t) return false;
    if (t.upper === 'NOT') return this.relOpAhead(offset + 1);
    if (t.upper === 'IS') return this.relOpAhead(offset + 1);
    return REL_WORDS.has(t.upper) && (t.kind === 'operator' || t.kind === 'word');
  }

  private primaryCondition(): string {
    const t = this.peek();
    if (!t) throw new TranslateError('missing condition');
    if (t.kind === 'lparen') {
      const save = this.pos;
      try {
        this.pos++;
        const inner = this.condition();
        this.expectParen();
        if (!this.relOpAhead(0) && !this.atArithOperator()) return `(${inner})`;
      } catch (e) {
        if (!(e instanceof TranslateError)) throw e;
      }
      this.pos = save;
    }
    // Abbreviated relation: "… AND > 5" reuses subject and the new operator.
    if (this.relOpAhead(0) && this.subject) {
      const op = this.relOp();
      return this.relation(this.subject, op, this.arithOperand());
    }
    if (t.kind === 'word' && this.model.conditions.has(t.upper) && !this.model.byName.has(t.upper)) {
      return this.conditionName();
    }
    const left = this.arithOperand();
    if (this.at('IS') || this.at('NOT') || this.classOrSignAhead()) {
      const save = this.pos;
      this.accept('IS');
      const negate = this.accept('NOT');
      const kw = this.peek()?.upper;
      if (kw && ['NUMERIC', 'ALPHABETIC', 'ALPHABETIC-UPPER', 'ALPHABETIC-LOWER', 'POSITIVE', 'NEGATIVE', 'ZERO', 'ZEROS', 'ZEROES'].includes(kw) && !this.relOpAhead(1)) {
        this.pos++;
        const test = this.classTest(left, kw);
        return negate ? `!(${test})` : test;
      }
      this.pos = save;
    }
    if (this.relOpAhead(0)) {
      const op = this.relOp();
      const right = this.arithOperand();
      this.subject = left;
      this.lastOp = op;
      return this.relation(left, op, right);
    }
    // Abbreviated: "A = 1 OR 2" — subject and operator implied.
    if (this.subject && this.lastOp) return this.relation(this.subject, this.lastOp, left);
    throw new TranslateError(`cannot read condition at ${t.text}`);
  }

  private atArithOperator(): boolean {
    const t = this.peek();
    return t?.kind === 'operator' && ['+', '-', '*', '/', '**'].includes(t.text);
  }

  private classOrSignAhead(): boolean {
    const u = this.peek()?.upper;
    return u === 'NUMERIC' || u === 'ALPHABETIC' || u === 'POSITIVE' || u === 'NEGATIVE';
  }

  private arithOperand(): Expr {
    const e = this.arith();
    return e;
  }

  private conditionName(): string {
    const t = this.peek();
    // primaryCondition calls this on the condition name it has just looked at.
    if (!t) throw new Error('internal error: conditionName() at the end of the tokens');
    this.pos++;
    const sym = this.condSymbol(t.upper, this.qualifiers());
    const owner = this.ownerCode(sym.node);
    const idx = this.conditionIndex(sym);
    return `${owner}${sym.isMethod}(${idx})`;
  }

  condSymbol(name: string, qualifiers: string[]): CondSymbol {
    const list = (this.model.conditions.get(name) ?? []).filter((c) => {
      const names = chain(c.node).map((n) => n.item.name);
      return qualifiers.every((q) => names.includes(q));
    });
    if (list.length === 0) throw new TranslateError(`unknown condition name ${name}`);
    if (list.length > 1) throw new TranslateError(`ambiguous condition name ${name}`);
    return list[0];
  }

  /** Subscripts of a condition name on an OCCURS item address the owner's element. */
  private conditionIndex(sym: CondSymbol): string {
    if (sym.node.occurs === undefined) return '';
    if (this.peek()?.kind !== 'lparen') throw new TranslateError(`${sym.cond.name} needs a subscript`);
    this.pos++;
    const e = this.arith();
    this.expectParen();
    return `(int) (${toLongCode(e)})`;
  }

  /** The object holding a node's condition methods ('' for the program itself). */
  ownerCode(node: JNode): string {
    const path = chain(node).slice(0, -1);
    if (path.length === 0) return '';
    const occurs = path.filter((n) => n.occurs !== undefined).length;
    if (occurs > 0) {
      if (this.peek()?.kind !== 'lparen') throw new TranslateError(`condition on ${node.item.name} needs subscripts`);
      this.pos++;
      const subs: Expr[] = [];
      while (this.before('rparen')) subs.push(this.arith());
      this.expectParen();
      if (subs.length !== occurs) throw new TranslateError(`condition on ${node.item.name} needs ${occurs} subscript(s)`);
      let code = '';
      let k = 0;
      for (const n of path) {
        code += code === '' ? n.field : `.${n.field}`;
        if (n.occurs !== undefined) code += `[${toIndex(subs[k++])}]`;
      }
      return `${code}.`;
    }
    return `${path.map((n) => n.field).join('.')}.`;
  }

  private relOp(): string {
    this.accept('IS');
    let negate = this.accept('NOT');
    const t = this.peek();
    if (!t) throw new TranslateError('missing relational operator');
    this.pos++;
    let op: string;
    switch (t.upper) {
      case '=':
      case 'EQUAL':
      case 'EQUALS':
        op = '==';
        this.accept('TO');
        break;
      case '<>':
        op = '==';
        negate = !negate;
        break;
      case '>':
      case '<':
      case '>=':
      case '<=':
        op = t.upper;
        break;
      case 'GREATER':
      case 'LESS':
        this.accept('THAN');
        op = t.upper === 'GREATER' ? '>' : '<';
        if (this.at('OR') && this.peek(1)?.upper === 'EQUAL') {
          this.pos += 2;
          this.accept('TO');
          op += '=';
        }
        break;
      default:
        throw new TranslateError(`unknown relational operator ${t.text}`);
    }
    if (!negate) return op;
    const negated = NEGATION[op];
    if (negated === undefined) throw new Error(`internal error: no negation of ${op}`);
    return negated;
  }

  relation(a: Expr, op: string, b: Expr): string {
    if ((a.type === 'int' || a.type === 'long') && (b.type === 'int' || b.type === 'long' || (b.literal !== undefined && /^-?\d{1,9}$/.test(b.literal)))) {
      return `${a.code} ${op} ${b.literal ?? b.code}`;
    }
    if (a.type === 'fig' && b.type !== 'fig') return this.relation(b, flip(op), a);
    if (b.type === 'fig') {
      if (isNumeric(a) && b.fig === 'ZERO') return `Cobol.cmp(${toDec(a)}, BigDecimal.ZERO) ${op} 0`;
      const text = a.type === 'group' ? `${a.code}.toText()` : toStr(a);
      if (b.all) return `Cobol.cmp(${text}, Cobol.all(${b.all}, ${text}.length())) ${op} 0`;
      return `Cobol.cmpAll(${text}, ${figChar(b.fig)}) ${op} 0`;
    }
    if (isNumeric(a) && isNumeric(b)) return `Cobol.cmp(${toDec(a)}, ${toDec(b)}) ${op} 0`;
    return `Cobol.cmp(${toStr(a)}, ${toStr(b)}) ${op} 0`;
  }

  private classTest(e: Expr, kw: string): string {
    switch (kw) {
      case 'NUMERIC':
        return isNumeric(e) ? 'Cobol.isNumeric(BigDecimal.ZERO)' : `Cobol.isNumeric(${toStr(e)})`;
      case 'ALPHABETIC':
        return `Cobol.isAlphabetic(${toStr(e)})`;
      case 'ALPHABETIC-UPPER':
        return `Cobol.isAlphabetic(${toStr(e)}) && ${toStr(e)}.equals(${toStr(e)}.toUpperCase())`;
      case 'ALPHABETIC-LOWER':
        return `Cobol.isAlphabetic(${toStr(e)}) && ${toStr(e)}.equals(${toStr(e)}.toLowerCase())`;
      case 'POSITIVE':
        return `${toDec(e)}.signum() > 0`;
      case 'NEGATIVE':
        return `${toDec(e)}.signum() < 0`;
      default:
        return `${toDec(e)}.signum() == 0`;
    }
  }

  /** True at tokens that end an arithmetic operand list (TO, GIVING…). */
  atStopWord(): boolean {
    const t = this.peek();
    return !t || (t.kind === 'word' && ARITH_STOP.has(t.upper));
  }
}

function wrapOr(code: string): string {
  return code.includes('||') && !/^\(.*\)$/.test(code) ? `(${code})` : code;
}

function flip(op: string): string {
  return { '==': '==', '!=': '!=', '>': '<', '<': '>', '>=': '<=', '<=': '>=' }[op] ?? op;
}
