import { analyzeCobol } from '../cobol/analyze';
import { programName } from '../cobol/dependencies';
import { discoverInventory, type Inventory, type InventoryKind } from '../cobol/inventory';
import type { CobolAnalysis } from '../cobol/types';
import { CobolAnalysisError, MigrationInputError } from './errors';
import { analysisFailureKey, analysisKey, LAYOUT, skippedKey } from './layout';
import { decodeText, getJson, putJson, relativeKey, type MigrationWorkspace } from './workspace';

/** The analysis as stored: the parser's JSON plus where its source is, for the generator's prompts. */
export type StoredAnalysis = CobolAnalysis & { sourceKey: string };

interface SkippedInput {
  skipped: true;
  key: string;
  kind: InventoryKind;
  reason: string;
}

export type AnalysisItemResult =
  | { status: 'analyzed'; outputKey: string; program: string; analysis: StoredAnalysis }
  | { status: 'skipped'; outputKey: string; kind: InventoryKind };

export interface AnalysisOptions {
  /** 'error' (default): an analysis with error diagnostics fails its item. 'never': it is stored as partial. */
  failOn?: 'error' | 'never';
}

const COPYBOOK_EXT = /\.(cpy|copy|cpb|inc)$/i;
const COPY_RE = /\bCOPY\s+["']?([A-Za-z0-9$#@_-]+)/gi;

function memberName(key: string): string {
  return (key.split('/').pop() ?? key).replace(/\.[^.]+$/, '').toUpperCase();
}

/**
 * COPY names → input keys. A copybook extension wins over others when two inputs share a member name
 * (a program ACCT.cbl and its copybook ACCT.cpy).
 */
function copybookIndex(keys: string[]): Map<string, string> {
  const index = new Map<string, string>();
  for (const key of keys) {
    const name = memberName(key);
    const current = index.get(name);
    if (!current || (!COPYBOOK_EXT.test(current) && COPYBOOK_EXT.test(key))) index.set(name, key);
  }
  return index;
}

/**
 * The copybooks a source needs, transitively, read up front: the parser's resolver is synchronous, and a
 * regex scan is far cheaper than analyzing twice. A COPY inside a comment only costs a read.
 */
async function loadCopybooks(ws: MigrationWorkspace, source: string, index: Map<string, string>, self: string): Promise<Map<string, string>> {
  const loaded = new Map<string, string>();
  const pending = [source];
  for (let text = pending.pop(); text !== undefined; text = pending.pop()) {
    const names = new Set([...text.matchAll(COPY_RE)].map((m) => m[1].toUpperCase()));
    for (const name of names) {
      if (loaded.has(name)) continue;
      const key = index.get(name);
      if (!key || key === self) continue;
      const body = await ws.get(key);
      if (body === undefined) continue;
      const content = typeof body === 'string' ? body : decodeText(body);
      loaded.set(name, content);
      pending.push(content);
    }
  }
  return loaded;
}

/**
 * cobol-analysis, one input: programs are analyzed (COPY resolved against the run's inputs) into
 * outputs/analyze/<PROGRAM>.json; other inputs get a skip marker and succeed, so `forEach: inputs` can feed
 * the whole input area to this agent. Rule: an analysis with at least one error diagnostic (status
 * 'partial') fails the item with CobolAnalysisError, its partial analysis kept under reports/analysis-failures/.
 */
export async function runAnalysis(ws: MigrationWorkspace, itemKey: string, opts: AnalysisOptions = {}): Promise<AnalysisItemResult> {
  const key = relativeKey(itemKey);
  if (!key.startsWith(LAYOUT.inputs)) throw new MigrationInputError(`cobol-analysis works on inputs/; got '${itemKey}'`);
  const body = await ws.get(key);
  if (body === undefined) throw new MigrationInputError(`input ${key} does not exist`);
  const kind = discoverInventory([{ key, content: typeof body === 'string' ? body : Buffer.from(body) }]).files[0].kind;
  if (kind !== 'program') {
    const marker: SkippedInput = { skipped: true, key, kind, reason: `not a COBOL program (${kind}); used through COPY or by the report` };
    return { status: 'skipped', outputKey: await putJson(ws, skippedKey(key), marker), kind };
  }
  const text = typeof body === 'string' ? body : decodeText(body);
  // The inventory, when discovery wrote it, names every input in one read instead of a paged listing per item.
  const inventory = await getJson<Partial<Inventory>>(ws, LAYOUT.inventory).catch(() => undefined);
  const index = copybookIndex(inventory?.files?.map((f) => f.key) ?? (await ws.list(LAYOUT.inputs)));
  const copybooks = await loadCopybooks(ws, text, index, key);
  const fileName = key.slice(LAYOUT.inputs.length);
  const analysis: StoredAnalysis = { ...analyzeCobol(text, { fileName, resolveCopybook: (name) => copybooks.get(name.toUpperCase()) }), sourceKey: key };
  const program = programName(analysis);
  if (analysis.status === 'partial' && (opts.failOn ?? 'error') === 'error') {
    const failureKey = await putJson(ws, analysisFailureKey(program), analysis);
    throw new CobolAnalysisError(program, fileName, analysis.diagnostics, failureKey);
  }
  return { status: 'analyzed', outputKey: await putJson(ws, analysisKey(program), analysis), program, analysis };
}

/** Every stored analysis (programs that analyzed cleanly, or partial ones when failOn is 'never'). */
export async function loadAnalyses(ws: MigrationWorkspace): Promise<StoredAnalysis[]> {
  const keys = (await ws.list(LAYOUT.analyses)).filter((k) => k.endsWith('.json'));
  const out: StoredAnalysis[] = [];
  for (const k of keys) {
    const body = await ws.get(k);
    if (body !== undefined) out.push(JSON.parse(typeof body === 'string' ? body : decodeText(body)) as StoredAnalysis);
  }
  return out;
}
