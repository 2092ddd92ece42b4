import type { CobolAnalysis, ConditionName, DataItem } from '../cobol/types';
import { expandPic } from '../cobol/pic';
import { NameScope, camel, pascal } from './names';

type JType = 'String' | 'int' | 'long' | 'BigDecimal' | 'double' | 'group';

/** A COBOL data item as it lives in the generated Java. */
export interface JNode {
  item: DataItem;
  field: string;
  type: JType;
  /** Group items: the Java class (nested classes are referenced through their parents). */
  className?: string;
  parent?: JNode;
  /** Characters of one occurrence in the record's text layout (DISPLAY widths). */
  length: number;
  digits: number;
  scale: number;
  signed: boolean;
  occurs?: number;
  children: JNode[];
  /** Numeric-edited pictures, expanded (ZZ9.99). */
  editPic?: string;
  justified?: boolean;
  /** Nodes the generator invents (RETURN-CODE, index names…): not part of any record layout. */
  synthetic?: boolean;
}

/** A group node's Java class; every group gets one when the model is built. */
export function classNameOf(n: JNode): string {
  if (n.className === undefined) throw new Error(`internal error: group ${n.item.name} has no Java class`);
  return n.className;
}

export interface CondSymbol {
  cond: ConditionName;
  node: JNode;
  isMethod: string;
  setMethod: string;
}

export interface DataModel {
  roots: JNode[];
  /** Every named node by COBOL name (several when names are qualified). */
  byName: Map<string, JNode[]>;
  conditions: Map<string, CondSymbol[]>;
  /** Class names taken in the program package. */
  classNames: NameScope;
  /** Condition methods to render per owner (undefined key = the program class). */
  methodScopes: Map<JNode | undefined, NameScope>;
}

function javaType(item: DataItem): Pick<JNode, 'type' | 'digits' | 'scale' | 'signed' | 'length' | 'editPic'> {
  const p = item.picInfo;
  if (item.usage === 'COMP-1' || item.usage === 'COMP-2') return { type: 'double', digits: 18, scale: 6, signed: true, length: 18 };
  if (item.usage === 'INDEX' || item.usage === 'POINTER') return { type: 'int', digits: 9, scale: 0, signed: false, length: 9 };
  if (!p) return { type: 'String', digits: 0, scale: 0, signed: false, length: 1 };
  if (p.category === 'numeric') {
    const length = p.length;
    if (p.scale !== 0 || p.digits > 18) return { type: 'BigDecimal', digits: p.digits, scale: Math.max(0, p.scale), signed: p.signed, length };
    return { type: p.digits <= 9 ? 'int' : 'long', digits: p.digits, scale: 0, signed: p.signed, length };
  }
  if (p.category === 'numeric-edited') {
    return { type: 'String', digits: p.digits, scale: p.scale, signed: p.signed, length: p.length, editPic: expandPic(item.pic ?? '') };
  }
  return { type: 'String', digits: 0, scale: 0, signed: false, length: p.length };
}

function add<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key) ?? [];
  list.push(value);
  map.set(key, list);
}

/** Builds the Java shape of the DATA DIVISION: field and class names, types, text lengths, condition methods. */
export function buildModel(analysis: CobolAnalysis, programClass: string, reservedClassNames: string[]): DataModel {
  const classNames = new NameScope([programClass, 'Cobol', ...reservedClassNames]);
  const byName = new Map<string, JNode[]>();
  const conditions = new Map<string, CondSymbol[]>();
  const methodScopes = new Map<JNode | undefined, NameScope>();
  const programFields = new NameScope(['returnCode']);
  const fieldScopes = new Map<JNode | undefined, NameScope>([[undefined, programFields]]);
  const methodScope = (owner: JNode | undefined): NameScope => {
    let s = methodScopes.get(owner);
    if (!s) {
      s = new NameScope(['toText', 'fromText', 'length', 'initialize', 'syncRedefines', 'run', 'call', 'main']);
      methodScopes.set(owner, s);
    }
    return s;
  };

  // The program's scope is there from the start; a group registers its own before its children are built.
  const fieldScope = (owner: JNode | undefined): NameScope => {
    const s = fieldScopes.get(owner);
    if (!s) throw new Error(`internal error: no field scope for ${owner ? owner.item.name : 'the program'}`);
    return s;
  };

  const build = (item: DataItem, parent: JNode | undefined, enclosing: string[]): JNode => {
    const children = item.children.filter((c) => c.level !== 66);
    const isGroup = children.length > 0;
    const scope = fieldScope(parent);
    const base = item.name === 'FILLER' ? 'filler' : camel(item.name, 'f');
    const node: JNode = {
      item,
      field: scope.take(base),
      ...(isGroup ? { type: 'group' as const, digits: 0, scale: 0, signed: false, length: 0 } : javaType(item)),
      ...(parent ? { parent } : {}),
      ...(item.occurs ? { occurs: Math.max(1, item.occurs.max) } : {}),
      ...(item.justified ? { justified: true } : {}),
      children: [],
    };
    if (isGroup) {
      // Nested classes may not repeat the name of an enclosing class.
      const wanted = pascal(item.name === 'FILLER' ? `${parent?.item.name ?? 'GROUP'}-FILLER` : item.name);
      let name = parent ? wanted : classNames.take(wanted);
      if (parent) {
        let n = 2;
        const siblings = fieldScope(parent);
        while (enclosing.includes(name) || siblings.has(`class:${name}`)) name = `${wanted}${n++}`;
        siblings.take(`class:${name}`);
      }
      node.className = name;
      fieldScopes.set(node, new NameScope());
      node.children = children.map((c) => build(c, node, [...enclosing, name]));
      node.length = node.children.filter((c) => !c.item.redefines).reduce((n, c) => n + c.length * (c.occurs ?? 1), 0);
    }
    if (item.name !== 'FILLER') add(byName, item.name, node);
    for (const cond of item.conditions) {
      const methods = methodScope(parent);
      const p = pascal(cond.name);
      add(conditions, cond.name, { cond, node, isMethod: methods.take(`is${p}`), setMethod: methods.take(`set${p}`) });
    }
    return node;
  };

  const roots = analysis.dataItems.filter((i) => i.level !== 66).map((i) => build(i, undefined, [programClass]));

  // Index names (OCCURS … INDEXED BY) become int fields of the program, holding occurrence numbers.
  const indexNames = new Set<string>();
  const collectIndexes = (items: DataItem[]): void => {
    for (const i of items) {
      for (const x of i.occurs?.indexedBy ?? []) indexNames.add(x);
      collectIndexes(i.children);
    }
  };
  collectIndexes(analysis.dataItems);
  const synthetic = (name: string, type: JType, digits: number, signed: boolean, length: number, field?: string): void => {
    if (byName.has(name)) return;
    const item: DataItem = { level: 77, name, line: 0, section: 'WORKING-STORAGE', usage: 'DISPLAY', conditions: [], children: [] };
    const node: JNode = { item, field: field ?? programFields.take(camel(name, 'f')), type, digits, scale: 0, signed, length, children: [], synthetic: true };
    roots.push(node);
    add(byName, name, node);
  };
  for (const x of [...indexNames].sort()) synthetic(x, 'int', 9, false, 9);
  synthetic('RETURN-CODE', 'int', 4, true, 4, 'returnCode');
  if (analysis.execBlocks.some((e) => e.kind === 'SQL')) synthetic('SQLCODE', 'int', 9, true, 9);
  if (analysis.execBlocks.some((e) => e.kind === 'CICS')) {
    synthetic('EIBCALEN', 'int', 4, false, 4);
    synthetic('EIBAID', 'String', 0, false, 1);
  }
  return { roots, byName, conditions, classNames, methodScopes };
}

/** Nodes from the root down to `node`. */
export function chain(node: JNode): JNode[] {
  const out: JNode[] = [];
  for (let n: JNode | undefined = node; n; n = n.parent) out.unshift(n);
  return out;
}

