import { REFERENCE_FENCE } from '../../llm/offline';
import { estimateTokens } from '../../llm/tokens';
import { addUsage, emptyTotals, type LlmProvider, type UsageTotals } from '../../llm/types';
import { JavacUnavailableError } from './errors';
import { loadManifests } from './generation';
import { localJavac, type Javac, type JavacDiagnostic } from './javac';
import { LAYOUT } from './layout';
import { getText, putJson, type MigrationWorkspace } from './workspace';

const JAVA_RELEASE = 17;

export interface ValidationOptions {
  javac?: Javac;
  /** With a provider, files with compile errors are sent back for repair. */
  llm?: LlmProvider;
  /** Repair rounds (each: every failing file once, then one compile of everything). Default 2. */
  repairAttempts?: number;
  maxOutputTokens?: number;
  /** No javac: fail the step (default) or write a report saying so. */
  requireJavac?: boolean;
  onProgress?: (fraction: number, usage: UsageTotals) => Promise<void> | void;
}

interface ValidatedFile {
  key: string;
  path: string;
  program: string;
  /** No javac error attributed to this file in the final compile. */
  compiled: boolean;
  errors: Array<{ line: number; message: string }>;
  /** Rewritten by an LLM repair. */
  repaired: boolean;
}

export interface ValidationReport {
  status: 'passed' | 'failed' | 'unavailable';
  javac?: string;
  release: number;
  files: ValidatedFile[];
  totals: { files: number; compiled: number; failed: number; errors: number };
  attempts: Array<{ attempt: number; errors: number; filesWithErrors: number; repaired: string[]; durationMs: number }>;
  /** javac output that names no file (a crash, a bad flag). */
  unattributed?: string;
  llm?: { provider: string; model: string };
  usage: UsageTotals;
}

export interface ValidationResult {
  outputKey: string;
  report: ValidationReport;
}

const REPAIR_SYSTEM = [
  'You fix Java 17 compile errors in generated code translated from COBOL.',
  'Return the complete corrected file and nothing else, keeping its package, type name, fields, method names and the use of the Cobol runtime class.',
  'Change only what the errors require.',
].join('\n');

function stripFences(text: string): string {
  const m = /^\s*```[\w-]*\s*\n([\s\S]*?)\n```\s*$/.exec(text);
  return (m ? m[1] : text).replace(/\s+$/, '') + '\n';
}

function typeName(content: string): string | undefined {
  return /^public\s+(?:final\s+|abstract\s+)?(?:class|interface|enum|record)\s+(\w+)/m.exec(content)?.[1];
}

function packageName(content: string): string | undefined {
  return /^package\s+([\w.]+)\s*;/m.exec(content)?.[1];
}

/** A repaired file must still be the same compilation unit (same package and type). */
function acceptableRepair(before: string, after: string): boolean {
  return after.trim() !== '' && packageName(after) === packageName(before) && typeName(after) === typeName(before);
}

/**
 * java-validation: compiles every file under outputs/java/ together with `javac --release 17`, attributes
 * errors to files, and with an LLM tries up to `repairAttempts` rounds of repairs, writing repaired files
 * back. Result: reports/validation.json. Compile errors do not fail the step: the report lists them.
 */
export async function runValidation(ws: MigrationWorkspace, opts: ValidationOptions = {}): Promise<ValidationResult> {
  const javac = opts.javac ?? localJavac();
  const manifests = await loadManifests(ws);
  const programOf = new Map<string, string>();
  for (const m of manifests) for (const f of m.files) programOf.set(f.key, programOf.has(f.key) && programOf.get(f.key) !== m.program ? '(shared)' : m.program);
  const keys = (await ws.list(LAYOUT.java)).filter((k) => k.endsWith('.java'));
  const files = new Map<string, string>();
  for (const k of keys) files.set(k.slice(LAYOUT.java.length), (await getText(ws, k)) ?? '');
  const usage = emptyTotals();

  const version = await javac.version();
  if (version === undefined) {
    if (opts.requireJavac ?? true) throw new JavacUnavailableError('javac is not available: java-validation needs a JDK 17+ (JAVAC, JAVA_HOME or PATH)');
    const report: ValidationReport = {
      status: 'unavailable',
      release: JAVA_RELEASE,
      files: keys.map((k) => ({ key: k, path: k.slice(LAYOUT.java.length), program: programOf.get(k) ?? '(unknown)', compiled: false, errors: [], repaired: false })),
      totals: { files: keys.length, compiled: 0, failed: 0, errors: 0 },
      attempts: [],
      usage,
    };
    return { outputKey: await putJson(ws, LAYOUT.validation, report), report };
  }

  const attempts: ValidationReport['attempts'] = [];
  const repaired = new Set<string>();
  const maxRepairs = opts.llm ? Math.max(0, opts.repairAttempts ?? 2) : 0;
  let result = await javac.compile(files, JAVA_RELEASE);
  const errorsByPath = (diags: JavacDiagnostic[]) => {
    const by = new Map<string, JavacDiagnostic[]>();
    for (const d of diags) if (d.severity === 'error') by.set(d.path, [...(by.get(d.path) ?? []), d]);
    return by;
  };
  let failing = errorsByPath(result.diagnostics);
  attempts.push({ attempt: 0, errors: [...failing.values()].flat().length, filesWithErrors: failing.size, repaired: [], durationMs: result.durationMs });
  await opts.onProgress?.(1 / (maxRepairs + 1), usage);

  for (let attempt = 1; attempt <= maxRepairs && failing.size > 0 && opts.llm; attempt++) {
    const changed: string[] = [];
    for (const [path, errors] of [...failing].sort(([a], [b]) => a.localeCompare(b))) {
      const before = files.get(path);
      if (before === undefined) continue;
      const maxTokens = Math.min(opts.maxOutputTokens ?? 8_192, Math.ceil(estimateTokens(before) * 1.3) + 256);
      const prompt = [
        `javac --release ${JAVA_RELEASE} reports ${errors.length} error(s) in ${path}:`,
        ...errors.slice(0, 50).map((e) => `- line ${e.line}: ${e.message}`),
        '',
        'The file:',
        '```' + REFERENCE_FENCE,
        before.replace(/\n$/, ''),
        '```',
      ].join('\n');
      // A file too large to send with room for its answer stays as it is.
      if (estimateTokens(REPAIR_SYSTEM) + estimateTokens(prompt) + maxTokens > opts.llm.contextTokens) continue;
      const response = await opts.llm.complete({ system: REPAIR_SYSTEM, messages: [{ role: 'user', content: prompt }], maxTokens, temperature: 0 });
      addUsage(usage, response);
      if (response.finishReason === 'length') continue;
      const after = stripFences(response.text);
      if (after === before || !acceptableRepair(before, after)) continue;
      files.set(path, after);
      changed.push(path);
    }
    if (changed.length === 0) {
      attempts.push({ attempt, errors: [...failing.values()].flat().length, filesWithErrors: failing.size, repaired: [], durationMs: 0 });
      break;
    }
    changed.forEach((p) => repaired.add(p));
    result = await javac.compile(files, JAVA_RELEASE);
    failing = errorsByPath(result.diagnostics);
    attempts.push({ attempt, errors: [...failing.values()].flat().length, filesWithErrors: failing.size, repaired: changed.sort(), durationMs: result.durationMs });
    await opts.onProgress?.((attempt + 1) / (maxRepairs + 1), usage);
  }

  for (const path of [...repaired].sort()) {
    const text = files.get(path);
    // Only files in the set are repaired.
    if (text === undefined) throw new Error(`internal error: repaired file ${path} is not in the set`);
    await ws.put(`${LAYOUT.java}${path}`, text);
  }
  const validated: ValidatedFile[] = [...files.keys()].sort().map((path) => {
    const key = `${LAYOUT.java}${path}`;
    const errors = (failing.get(path) ?? []).map((d) => ({ line: d.line, message: d.message }));
    return { key, path, program: programOf.get(key) ?? '(unknown)', compiled: errors.length === 0 && (result.ok || !result.unattributed), errors, repaired: repaired.has(path) };
  });
  const compiled = validated.filter((f) => f.compiled).length;
  const report: ValidationReport = {
    status: result.ok ? 'passed' : 'failed',
    javac: version,
    release: JAVA_RELEASE,
    files: validated,
    totals: { files: validated.length, compiled, failed: validated.length - compiled, errors: validated.reduce((n, f) => n + f.errors.length, 0) },
    attempts,
    ...(result.unattributed ? { unattributed: result.unattributed.slice(0, 4_000) } : {}),
    ...(opts.llm ? { llm: { provider: opts.llm.name, model: opts.llm.model } } : {}),
    usage,
  };
  await opts.onProgress?.(1, usage);
  return { outputKey: await putJson(ws, LAYOUT.validation, report), report };
}
