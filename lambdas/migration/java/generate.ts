import type { CobolAnalysis, Diagnostic } from '../cobol/types';
import { ENTRY_PARAGRAPH } from '../cobol/procedure';
import { mustGet } from '../cobol/maps';
import { buildModel, classNameOf, type JNode } from './model';
import { NameScope, camel, commentText, javaString, packageSegment, pascal } from './names';
import { conditionMethods, declareField, groupBody, redefinesSync } from './records';
import { renderRuntime, runtimePackage } from './runtime';
import { StatementTranslator, type CallTarget, type FileBinding, type ProgramContext } from './statements';

export interface GeneratedJavaFile {
  path: string;
  content: string;
}

export interface JavaGenerationResult {
  files: GeneratedJavaFile[];
  /** Statements left as TODO(agentplane) comments. */
  todos: number;
  diagnostics: Diagnostic[];
  /** Fully qualified name of the program class. */
  mainClass: string;
}

const IND = '    ';
const PACKAGE_RE = /^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*$/;

function header(pkg: string, javaPackage: string, extraImports: string[] = []): string[] {
  return [`package ${pkg};`, '', 'import java.math.BigDecimal;', ...extraImports, `import ${runtimePackage(javaPackage)}.Cobol;`, ''];
}

function programNameOf(a: CobolAnalysis): string {
  return a.programId ?? (a.fileName.split('/').pop() ?? a.fileName).replace(/\.[^.]+$/, '').toUpperCase();
}

/**
 * Deterministic COBOL → Java 17 translation of one analyzed program: a class per program, a class per record,
 * an interface per CALL target and the shared runtime. Never throws; problems become diagnostics and TODOs.
 */
export function generateJava(analysis: CobolAnalysis, opts: { javaPackage: string }): JavaGenerationResult {
  const diagnostics: Diagnostic[] = [];
  let javaPackage = opts.javaPackage.trim();
  if (!PACKAGE_RE.test(javaPackage)) {
    diagnostics.push({ line: 0, column: 0, severity: 'warning', message: `invalid Java package '${opts.javaPackage}'; using 'migrated'` });
    javaPackage = 'migrated';
  }
  const errors = analysis.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) {
    diagnostics.push({ line: errors[0].line, column: errors[0].column, severity: 'warning', message: `analysis has ${errors.length} error(s); the generated code covers what could be parsed` });
  }
  try {
    return generate(analysis, javaPackage, diagnostics);
  } catch (e) {
    diagnostics.push({ line: 0, column: 0, severity: 'error', message: `Java generation failed: ${e instanceof Error ? e.message : String(e)}` });
    return { files: [], todos: 0, diagnostics, mainClass: '' };
  }
}

function generate(analysis: CobolAnalysis, javaPackage: string, diagnostics: Diagnostic[]): JavaGenerationResult {
  const programName = programNameOf(analysis);
  const programClass = pascal(programName, 'Program');
  const pkg = `${javaPackage}.${packageSegment(programName)}`;
  const dir = pkg.replace(/\./g, '/');

  // CALL targets (static literal calls) each get an interface.
  const targets = [...new Set(analysis.calls.filter((c) => !c.dynamic && c.via === 'CALL').map((c) => c.target))].sort();
  const ifaceScope = new NameScope([programClass, 'Cobol']);
  const calls = new Map<string, CallTarget>();
  for (const t of targets) calls.set(t, { program: t, iface: ifaceScope.take(`${pascal(t, 'Program')}Call`), field: `${camel(t, 'p')}$`, signatures: [] });
  const model = buildModel(analysis, programClass, [...calls.values()].map((c) => c.iface));

  const roots = model.roots;
  const findRoot = (name: string | undefined): JNode | undefined => (name ? roots.find((r) => r.item.name === name) : undefined);
  const files = new Map<string, FileBinding>();
  for (const f of analysis.files) {
    const record = findRoot(f.records[0]);
    const status = f.fileStatus ? model.byName.get(f.fileStatus)?.[0] : undefined;
    files.set(f.name, { name: f.name, field: `${camel(f.name, 'f')}$`, ...(record ? { record } : {}), ...(status && status.occurs === undefined ? { status } : {}) });
  }

  // Method names: paragraphs (keyed uniquely), sections, and the program's condition methods share one scope.
  const methodScope = model.methodScopes.get(undefined) ?? new NameScope(['run', 'call', 'main', 'syncRedefines']);
  const sectionNames = new Set(analysis.sections.filter((s) => s.division === 'PROCEDURE').map((s) => s.name));
  const methods = new Map<string, string>();
  const order: string[] = [];
  const paragraphs = new Map<string, (typeof analysis.paragraphs)[number]>();
  const keyOf = new Map<(typeof analysis.paragraphs)[number], string>();
  const sections = new Map<string, string[]>();
  analysis.paragraphs.forEach((p, i) => {
    const key = paragraphs.has(p.name) || sectionNames.has(p.name) || p.name === ENTRY_PARAGRAPH ? `${p.name}#${i}` : p.name;
    const base = p.name === ENTRY_PARAGRAPH ? 'procedureEntry' : sectionNames.has(p.name) ? `${camel(p.name)}Start` : camel(p.name);
    methods.set(key, methodScope.take(base));
    paragraphs.set(key, p);
    keyOf.set(p, key);
    order.push(key);
    if (p.section) sections.set(p.section, [...(sections.get(p.section) ?? []), key]);
  });
  for (const s of sectionNames) methods.set(s, methodScope.take(`${camel(s)}Section`));

  const ctx: ProgramContext = { model, fileName: analysis.fileName, methods, order, paragraphs, files, calls, sections, keyOf };
  const translator = new StatementTranslator(ctx);
  const body: string[] = [];
  for (const key of order) {
    const p = paragraphs.get(key);
    if (!p) throw new Error(`internal error: paragraph ${key} is in the order but not in the program`);
    body.push(`${IND}/** Paragraph ${commentText(p.name)} (lines ${p.line}-${p.endLine}${p.section ? `, section ${commentText(p.section)}` : ''}). */`);
    body.push(`${IND}void ${mustGet(methods, key, 'method')}() {`);
    body.push(...translator.paragraph(p, IND + IND));
    body.push(`${IND}}`, '');
  }
  for (const s of [...sectionNames].sort()) {
    body.push(`${IND}/** Section ${commentText(s)}: its paragraphs in order. */`, `${IND}void ${mustGet(methods, s, 'method')}() {`);
    for (const key of sections.get(s) ?? []) body.push(`${IND}${IND}${mustGet(methods, key, 'method')}();`);
    body.push(`${IND}}`, '');
  }

  const out: string[] = [...header(pkg, javaPackage)];
  out.push('/**');
  out.push(` * Program ${commentText(programName)}, translated from ${commentText(analysis.fileName)} by agentplane.`);
  out.push(' * Data items are fields; paragraphs are methods; run() executes the PROCEDURE DIVISION from the top,');
  out.push(' * falling through paragraphs as COBOL does. CALL targets are injected through the *Call fields.');
  out.push(' */');
  out.push(`public class ${programClass} {`);
  for (const r of roots) {
    if (r.synthetic) out.push(`${IND}/** Special register ${commentText(r.item.name)}. */`, `${IND}public ${r.type} ${r.field} = ${r.type === 'String' ? `Cobol.spaces(${r.length})` : '0'};`, '');
    else out.push(...declareField(r, IND), '');
  }
  for (const f of files.values()) {
    const def = analysis.files.find((x) => x.name === f.name);
    // The bindings were made from analysis.files.
    if (!def) throw new Error(`internal error: file ${f.name} is not in the analysis`);
    const length = f.record?.length ?? def.recordContains?.max ?? 80;
    out.push(`${IND}/** SELECT ${commentText(def.name)} ASSIGN TO ${commentText(def.assignTo ?? '?')} (${def.organization}, ${def.access}). */`);
    out.push(`${IND}public final Cobol.SeqFile ${f.field} = new Cobol.SeqFile(${javaString(def.assignTo ?? def.name)}, ${length});`, '');
  }
  for (const c of calls.values()) out.push(`${IND}/** Implementation of CALL '${commentText(c.program)}'. */`, `${IND}public ${c.iface} ${c.field};`, '');
  const sync = redefinesSync(roots.filter((r) => !r.synthetic), IND + IND);
  if (sync.length > 0) out.push(`${IND}{`, `${IND}${IND}syncRedefines();`, `${IND}}`, '', `${IND}void syncRedefines() {`, ...sync, `${IND}}`, '');
  out.push(...conditionMethods(roots, model, IND));

  const using = analysis.procedureUsing.map((n) => roots.find((r) => r.item.name === n)).filter((r): r is JNode => r !== undefined);
  out.push(`${IND}/** Runs the PROCEDURE DIVISION; returns RETURN-CODE. */`, `${IND}public int run() {`, `${IND}${IND}try {`);
  for (const key of order) out.push(`${IND}${IND}${IND}${mustGet(methods, key, 'method')}();`);
  out.push(`${IND}${IND}} catch (Cobol.GobackSignal goback$) {`, `${IND}${IND}${IND}// GOBACK returns to the caller`, `${IND}${IND}}`, `${IND}${IND}return returnCode;`, `${IND}}`, '');
  if (using.length > 0) {
    const params = using.map((r) => `${r.type === 'group' ? classNameOf(r) : r.type} ${r.field}`);
    out.push(`${IND}/** Entry point for CALL … USING ${commentText(analysis.procedureUsing.join(' '))}. */`, `${IND}public int call(${params.join(', ')}) {`);
    for (const r of using) out.push(`${IND}${IND}this.${r.field} = ${r.field};`);
    out.push(`${IND}${IND}return run();`, `${IND}}`, '');
  } else {
    out.push(`${IND}public static void main(String[] args) {`, `${IND}${IND}int rc;`, `${IND}${IND}try {`, `${IND}${IND}${IND}rc = new ${programClass}().run();`);
    out.push(`${IND}${IND}} catch (Cobol.StopRunSignal stop$) {`, `${IND}${IND}${IND}rc = stop$.returnCode;`, `${IND}${IND}}`, `${IND}${IND}System.exit(rc);`, `${IND}}`, '');
  }
  out.push(...body);
  while (out[out.length - 1] === '') out.pop();
  out.push('}', '');

  const generated: GeneratedJavaFile[] = [{ path: `${dir}/${programClass}.java`, content: out.join('\n') }];
  for (const r of roots) {
    if (r.type !== 'group' || r.synthetic) continue;
    const lines = [...header(pkg, javaPackage)];
    lines.push(`/** Record ${commentText(r.item.name)} of ${commentText(programName)} (${r.item.section}, line ${r.item.line}${r.item.copybook ? `, copybook ${commentText(r.item.copybook)}` : ''}): ${r.length} characters as text${r.item.size !== undefined ? `, ${r.item.size} bytes in storage` : ''}. */`);
    lines.push(`public class ${classNameOf(r)} implements Cobol.Record {`, ...groupBody(r, model, IND), '}', '');
    generated.push({ path: `${dir}/${classNameOf(r)}.java`, content: lines.join('\n') });
  }
  for (const c of calls.values()) {
    const sigs = c.signatures.length > 0 ? c.signatures : [['Object...']];
    const lines = [...header(pkg, javaPackage)];
    lines.push(`/**`, ` * The program called as '${commentText(c.program)}' by ${commentText(programName)}. Groups are passed by reference;`, ' * elementary BY REFERENCE arguments are passed by value and changes to them are not seen by the caller.', ' */');
    lines.push(`public interface ${c.iface} {`);
    for (const sig of sigs) lines.push(`${IND}void call(${sig.map((t, i) => (t === 'Object...' ? 'Object... using' : `${t} arg${i + 1}`)).join(', ')});`, '');
    while (lines[lines.length - 1] === '') lines.pop();
    lines.push('}', '');
    generated.push({ path: `${dir}/${c.iface}.java`, content: lines.join('\n') });
  }
  generated.push(renderRuntime(javaPackage));
  generated.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  if (analysis.paragraphs.length === 0) diagnostics.push({ line: 0, column: 0, severity: 'warning', message: 'no paragraphs to translate' });
  return { files: generated, todos: translator.todos, diagnostics, mainClass: `${pkg}.${programClass}` };
}
