import { programName } from '../cobol/dependencies';
import { generateJava } from '../java/generate';
import { emptyTotals, type LlmProvider, type UsageTotals } from '../../llm/types';
import type { Diagnostic } from '../cobol/types';
import type { StoredAnalysis } from './analysis';
import { MigrationInputError } from './errors';
import { generationKey, LAYOUT } from './layout';
import { translateParagraphs, type TranslationStats } from './translate';
import { getJson, getText, putJson, relativeKey, type MigrationWorkspace } from './workspace';

export const DEFAULT_JAVA_PACKAGE = 'com.example.legacy';

export interface GenerationOptions {
  javaPackage?: string;
  /** Translate paragraph bodies with this provider; absent: the deterministic generator alone. */
  llm?: LlmProvider;
  contextTokens?: number;
  maxOutputTokens?: number;
  onProgress?: (fraction: number, usage: UsageTotals) => Promise<void> | void;
}

/** outputs/generate/<PROGRAM>.json: what the validation and report agents read. */
export interface GenerationManifest {
  program: string;
  fileName: string;
  analysisKey: string;
  javaPackage: string;
  mainClass: string;
  /** Workspace keys of the Java files written (runtime included). */
  files: Array<{ key: string; path: string }>;
  todos: number;
  diagnostics: Diagnostic[];
  llm?: { provider: string; model: string; stats: TranslationStats };
  usage: UsageTotals;
}

export type GenerationItemResult =
  | { status: 'generated'; outputKey: string; manifest: GenerationManifest }
  | { status: 'skipped'; outputKey: string };

/** What an analysis read back from the workspace must look like before it is used as one. */
function isStoredAnalysis(value: unknown): value is StoredAnalysis {
  const v = value as { paragraphs?: unknown; schemaVersion?: unknown };
  return Array.isArray(v.paragraphs) && v.schemaVersion === 1;
}

/**
 * java-generation, one analysis: the deterministic Java (generateJava), paragraph bodies optionally
 * rewritten by the LLM, written under outputs/java/<package path>/, with a manifest. Items that are skip
 * markers of non-program inputs succeed with the marker as their output.
 */
export async function runGeneration(ws: MigrationWorkspace, itemKey: string, opts: GenerationOptions = {}): Promise<GenerationItemResult> {
  const key = relativeKey(itemKey);
  if (key.startsWith(LAYOUT.skipped)) return { status: 'skipped', outputKey: key };
  const analysis = await getJson<unknown>(ws, key);
  if (!analysis) throw new MigrationInputError(`analysis ${key} does not exist`);
  if (!isStoredAnalysis(analysis)) throw new MigrationInputError(`${key} is not a COBOL analysis`);
  const program = programName(analysis);
  const javaPackage = opts.javaPackage?.trim() || DEFAULT_JAVA_PACKAGE;
  const result = generateJava(analysis, { javaPackage });
  if (result.files.length === 0) {
    throw new MigrationInputError(`no Java generated for ${program}: ${result.diagnostics.map((d) => d.message).join('; ')}`);
  }
  const mainPath = `${result.mainClass.replace(/\./g, '/')}.java`;
  let usage = emptyTotals();
  let llm: GenerationManifest['llm'];
  const files = [...result.files];
  if (opts.llm) {
    const main = files.find((f) => f.path === mainPath);
    if (main) {
      const source = analysis.sourceKey ? await getText(ws, analysis.sourceKey) : undefined;
      const records = files.filter((f) => f !== main && f.path.startsWith(mainPath.slice(0, mainPath.lastIndexOf('/') + 1)));
      const translated = await translateParagraphs(
        opts.llm,
        { programName: program, analysis, main, records, ...(source !== undefined ? { source } : {}) },
        {
          ...(opts.contextTokens !== undefined ? { contextTokens: opts.contextTokens } : {}),
          ...(opts.maxOutputTokens !== undefined ? { maxOutputTokens: opts.maxOutputTokens } : {}),
          ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
        },
      );
      files[files.indexOf(main)] = { path: main.path, content: translated.content };
      usage = translated.usage;
      llm = { provider: opts.llm.name, model: opts.llm.model, stats: translated.stats };
    }
  }
  const written: GenerationManifest['files'] = [];
  for (const f of files) {
    const fileKey = `${LAYOUT.java}${f.path}`;
    await ws.put(fileKey, f.content);
    written.push({ key: fileKey, path: f.path });
  }
  const manifest: GenerationManifest = {
    program,
    fileName: analysis.fileName,
    analysisKey: key,
    javaPackage,
    mainClass: result.mainClass,
    files: written,
    todos: result.todos,
    diagnostics: result.diagnostics,
    ...(llm ? { llm } : {}),
    usage,
  };
  return { status: 'generated', outputKey: await putJson(ws, generationKey(program), manifest), manifest };
}

export async function loadManifests(ws: MigrationWorkspace): Promise<GenerationManifest[]> {
  const out: GenerationManifest[] = [];
  for (const k of (await ws.list(LAYOUT.generation)).filter((x) => x.endsWith('.json'))) {
    const m = await getJson<GenerationManifest>(ws, k);
    if (m) out.push(m);
  }
  return out.sort((a, b) => a.program.localeCompare(b.program));
}
