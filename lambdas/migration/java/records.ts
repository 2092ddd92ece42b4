import type { ConditionValue, Literal } from '../cobol/types';
import { classNameOf, type CondSymbol, type DataModel, type JNode } from './model';
import { commentText, javaString } from './names';

const figChars: Record<string, string> = {
  SPACE: "' '",
  ZERO: "'0'",
  'HIGH-VALUE': "'\\uffff'",
  'LOW-VALUE': "'\\u0000'",
  NULL: "'\\u0000'",
  QUOTE: "'\"'",
};

function literalText(l: Literal, length: number): string {
  if (l.kind === 'figurative') {
    if (l.all) return `Cobol.all(${javaString(l.value)}, ${length})`;
    return `Cobol.fill(${figChars[l.value] ?? "' '"}, ${length})`;
  }
  if (l.kind === 'hex') {
    const bytes = l.value.match(/../g) ?? [];
    return javaString(bytes.map((b) => String.fromCharCode(parseInt(b, 16))).join(''));
  }
  if (l.all) return `Cobol.all(${javaString(l.value)}, ${length})`;
  return javaString(l.value);
}

function literalNumber(l: Literal): string {
  if (l.kind === 'number') return `Cobol.dec(${javaString(l.value.replace(/^\+/, ''))})`;
  if (l.kind === 'figurative' && l.value === 'ZERO') return 'BigDecimal.ZERO';
  if (l.kind === 'string') return `Cobol.num(${javaString(l.value)})`;
  return 'BigDecimal.ZERO';
}

/** Converts a BigDecimal-valued Java expression into the node's Java type (MOVE semantics). */
export function fromDecimal(n: JNode, dec: string, rounded = false): string {
  switch (n.type) {
    case 'int':
      return `Cobol.toInt(${dec}, ${n.digits}, ${n.signed}, ${rounded})`;
    case 'long':
      return `Cobol.toLong(${dec}, ${n.digits}, ${n.signed}, ${rounded})`;
    case 'BigDecimal':
      return `Cobol.toDec(${dec}, ${n.digits}, ${n.scale}, ${n.signed}, ${rounded})`;
    case 'double':
      return `${dec}.doubleValue()`;
    case 'String':
      return n.editPic ? `Cobol.edit(${dec}, ${javaString(n.editPic)})` : `Cobol.fit(Cobol.str(${dec}), ${n.length})`;
    case 'group':
      return `Cobol.str(${dec})`;
  }
}

/** Text (DISPLAY layout) of one occurrence held at `access`. */
export function textOf(n: JNode, access: string): string {
  switch (n.type) {
    case 'String':
      return `Cobol.fit(${access}, ${n.length})`;
    case 'int':
    case 'long':
      return `Cobol.fit(Cobol.numText(${access}, ${n.digits}, ${n.signed}), ${n.length})`;
    case 'BigDecimal':
      return `Cobol.fit(Cobol.numText(${access}, ${n.digits}, ${n.scale}, ${n.signed}), ${n.length})`;
    case 'double':
      return `Cobol.numText(${access}, 18, 6, true)`;
    case 'group':
      return `${access}.toText()`;
  }
}

/** Statement assigning text `src` to the occurrence at `access`. */
function assignText(n: JNode, access: string, src: string): string {
  switch (n.type) {
    case 'String':
      return `${access} = Cobol.fit(${src}, ${n.length});`;
    case 'group':
      return `${access}.fromText(${src});`;
    case 'double':
      return `${access} = Cobol.parseNum(${src}, 6).doubleValue();`;
    default:
      return `${access} = ${fromDecimal(n, `Cobol.parseNum(${src}, ${n.scale})`)};`;
  }
}

function initialValue(n: JNode): string {
  const v = n.item.value;
  switch (n.type) {
    case 'String': {
      if (!v) return `Cobol.spaces(${n.length})`;
      const text = v.kind === 'number' ? javaString(v.value) : literalText(v, n.length);
      return n.justified ? `Cobol.fitRight(${text}, ${n.length})` : `Cobol.fit(${text}, ${n.length})`;
    }
    case 'int':
    case 'long':
      if (!v || (v.kind === 'figurative' && v.value === 'ZERO')) return n.type === 'long' ? '0L' : '0';
      if (v.kind === 'number' && /^[+-]?\d+$/.test(v.value) && v.value.replace(/^[+-]/, '').length <= n.digits) {
        const lit = String(Number(v.value));
        return n.type === 'long' ? `${lit}L` : lit;
      }
      return fromDecimal(n, literalNumber(v));
    case 'BigDecimal':
      if (!v) return `Cobol.zero(${n.scale})`;
      return fromDecimal(n, literalNumber(v));
    case 'double':
      return v ? `${literalNumber(v)}.doubleValue()` : '0.0';
    case 'group':
      return `new ${classNameOf(n)}()`;
  }
}

function arrayInit(n: JNode, count: number): string {
  switch (n.type) {
    case 'String':
      return `Cobol.strings(${count}, ${n.length})`;
    case 'int':
      return `new int[${count}]`;
    case 'long':
      return `new long[${count}]`;
    case 'double':
      return `new double[${count}]`;
    case 'BigDecimal':
      return `Cobol.decimals(${count}, ${n.scale})`;
    case 'group':
      return `Cobol.fill(new ${classNameOf(n)}[${count}], ${classNameOf(n)}::new)`;
  }
}

function javaTypeName(n: JNode): string {
  return n.type === 'group' ? classNameOf(n) : n.type;
}

function describe(n: JNode): string {
  const i = n.item;
  const parts = [`${String(i.level).padStart(2, '0')} ${i.name}`];
  if (i.pic) parts.push(`PIC ${i.pic}`);
  if (i.usage !== 'DISPLAY') parts.push(i.usage);
  if (i.occurs) parts.push(i.occurs.dependingOn ? `OCCURS ${i.occurs.min} TO ${i.occurs.max} DEPENDING ON ${i.occurs.dependingOn}` : `OCCURS ${i.occurs.max}`);
  if (i.redefines) parts.push(`REDEFINES ${i.redefines}`);
  if (i.line) parts.push(`(line ${i.line}${i.copybook ? `, copybook ${i.copybook}` : ''})`);
  return commentText(parts.join(' '));
}

/** Field declaration in the owner class; top-level LINKAGE records are reassigned by callers. */
export function declareField(n: JNode, ind: string): string[] {
  const out = [`${ind}/** ${describe(n)} */`];
  const mutable = !n.parent && n.item.section === 'LINKAGE';
  if (n.occurs !== undefined) out.push(`${ind}public final ${javaTypeName(n)}[] ${n.field} = ${arrayInit(n, n.occurs)};`);
  else if (n.type === 'group') out.push(`${ind}public ${mutable ? '' : 'final '}${classNameOf(n)} ${n.field} = new ${classNameOf(n)}();`);
  else out.push(`${ind}public ${n.type} ${n.field} = ${initialValue(n)};`);
  return out;
}

function valueTest(n: JNode, access: string, v: ConditionValue): string {
  const numeric = n.type !== 'String' && n.type !== 'group';
  if (numeric) {
    const value = `Cobol.dec(${access})`;
    if (v.thru) return `(Cobol.cmp(${value}, ${literalNumber(v.from)}) >= 0 && Cobol.cmp(${value}, ${literalNumber(v.thru)}) <= 0)`;
    return `Cobol.cmp(${value}, ${literalNumber(v.from)}) == 0`;
  }
  const text = n.type === 'group' ? `${access}.toText()` : access;
  const lit = (l: Literal): string => (l.kind === 'number' ? javaString(l.value) : literalText(l, n.length));
  if (v.from.kind === 'figurative' && !v.from.all && !v.thru) return `Cobol.cmpAll(${text}, ${figChars[v.from.value] ?? "' '"}) == 0`;
  if (v.thru) return `(Cobol.cmp(${text}, ${lit(v.from)}) >= 0 && Cobol.cmp(${text}, ${lit(v.thru)}) <= 0)`;
  return `Cobol.cmp(${text}, ${lit(v.from)}) == 0`;
}

function valueSet(n: JNode, access: string, v: Literal): string {
  if (n.type === 'String' || n.type === 'group') {
    const text = v.kind === 'number' ? javaString(v.value) : literalText(v, n.length);
    return n.type === 'group' ? `${access}.fromText(Cobol.fit(${text}, ${n.length}));` : `${access} = Cobol.fit(${text}, ${n.length});`;
  }
  return `${access} = ${fromDecimal(n, literalNumber(v))};`;
}

/** 88-level methods for the conditions of the given nodes (all in one owner class). */
export function conditionMethods(nodes: JNode[], model: DataModel, ind: string): string[] {
  const out: string[] = [];
  const syms: CondSymbol[] = [];
  for (const list of model.conditions.values()) for (const s of list) if (nodes.includes(s.node)) syms.push(s);
  syms.sort((a, b) => a.cond.line - b.cond.line || a.isMethod.localeCompare(b.isMethod));
  for (const s of syms) {
    const n = s.node;
    const indexed = n.occurs !== undefined;
    const access = indexed ? `this.${n.field}[i$ - 1]` : `this.${n.field}`;
    const param = indexed ? 'int i$' : '';
    const tests = s.cond.values.map((v) => valueTest(n, access, v));
    out.push(`${ind}/** 88 ${commentText(s.cond.name)} (line ${s.cond.line}) */`);
    out.push(`${ind}public boolean ${s.isMethod}(${param}) {`);
    out.push(`${ind}    return ${tests.length > 0 ? tests.join(' || ') : 'false'};`);
    out.push(`${ind}}`);
    out.push('');
    out.push(`${ind}public void ${s.setMethod}(${param}) {`);
    if (s.cond.values[0]) out.push(`${ind}    ${valueSet(n, access, s.cond.values[0].from)}`);
    out.push(`${ind}}`);
    out.push('');
  }
  return out;
}

function forEachOccurrence(n: JNode, ind: string, body: (access: string, ind: string) => string[]): string[] {
  if (n.occurs === undefined) return body(`this.${n.field}`, ind);
  return [`${ind}for (int i$ = 0; i$ < ${n.occurs}; i$++) {`, ...body(`this.${n.field}[i$]`, ind + '    '), `${ind}}`];
}

/** syncRedefines(): refreshes REDEFINES views from the storage they redefine (Java fields do not overlap). */
export function redefinesSync(nodes: JNode[], ind: string): string[] {
  const out: string[] = [];
  for (const r of nodes) {
    const baseName = r.item.redefines;
    if (!baseName) continue;
    const base = nodes.find((b) => b.item.name === baseName && !b.item.redefines);
    if (!base || base.occurs !== undefined) {
      out.push(`${ind}// REDEFINES ${commentText(baseName)}: view ${r.field} is not synchronized`);
      continue;
    }
    const text = textOf(base, `this.${base.field}`);
    if (r.occurs === undefined) out.push(`${ind}${assignText(r, `this.${r.field}`, text)}`);
    else {
      out.push(`${ind}for (int i$ = 0; i$ < ${r.occurs}; i$++) {`);
      out.push(`${ind}    ${assignText(r, `this.${r.field}[i$]`, `Cobol.substr(${text}, i$ * ${r.length} + 1, ${r.length})`)}`);
      out.push(`${ind}}`);
    }
  }
  return out;
}

/** Members of a group's class: fields, nested classes, 88-level methods and the Cobol.Record methods. */
export function groupBody(g: JNode, model: DataModel, ind: string): string[] {
  const out: string[] = [];
  for (const c of g.children) out.push(...declareField(c, ind), '');
  const sync = redefinesSync(g.children, ind + '    ');
  if (sync.length > 0) out.push(`${ind}{`, `${ind}    syncRedefines();`, `${ind}}`, '');
  out.push(...conditionMethods(g.children, model, ind));
  const layout = g.children.filter((c) => !c.item.redefines);
  out.push(`${ind}@Override`, `${ind}public String toText() {`, `${ind}    StringBuilder b$ = new StringBuilder(${g.length});`);
  for (const c of layout) out.push(...forEachOccurrence(c, ind + '    ', (a, i) => [`${i}b$.append(${textOf(c, a)});`]));
  out.push(`${ind}    return b$.toString();`, `${ind}}`, '');
  out.push(`${ind}@Override`, `${ind}public void fromText(String text$) {`, `${ind}    String t$ = Cobol.fit(text$, ${g.length});`, `${ind}    int p$ = 0;`);
  for (const c of layout) {
    out.push(
      ...forEachOccurrence(c, ind + '    ', (a, i) => [`${i}${assignText(c, a, `t$.substring(p$, p$ + ${c.length})`)}`, `${i}p$ += ${c.length};`]),
    );
  }
  if (sync.length > 0) out.push(`${ind}    syncRedefines();`);
  out.push(`${ind}}`, '');
  out.push(`${ind}@Override`, `${ind}public int length() {`, `${ind}    return ${g.length};`, `${ind}}`, '');
  out.push(`${ind}@Override`, `${ind}public void initialize() {`);
  for (const c of layout) {
    if (c.item.name === 'FILLER') continue;
    out.push(...forEachOccurrence(c, ind + '    ', (a, i) => [`${i}${initializeStatement(c, a)}`]));
  }
  out.push(`${ind}}`, '');
  if (sync.length > 0) out.push(`${ind}void syncRedefines() {`, ...sync, `${ind}}`, '');
  for (const c of g.children) {
    if (c.type !== 'group') continue;
    out.push(`${ind}/** ${describe(c)} */`);
    out.push(`${ind}public static final class ${classNameOf(c)} implements Cobol.Record {`);
    out.push(...groupBody(c, model, ind + '    '));
    out.push(`${ind}}`, '');
  }
  while (out[out.length - 1] === '') out.pop();
  return out;
}

/** INITIALIZE semantics: alphanumeric to spaces, numeric to zero, groups recursively. */
export function initializeStatement(n: JNode, access: string): string {
  switch (n.type) {
    case 'String':
      return `${access} = Cobol.spaces(${n.length});`;
    case 'int':
      return `${access} = 0;`;
    case 'long':
      return `${access} = 0L;`;
    case 'double':
      return `${access} = 0.0;`;
    case 'BigDecimal':
      return `${access} = Cobol.zero(${n.scale});`;
    case 'group':
      return `${access}.initialize();`;
  }
}
