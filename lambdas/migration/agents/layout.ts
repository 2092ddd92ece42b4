/**
 * Where each agent reads and writes in the run's workspace (keys relative to `runs/<runId>/`). One place,
 * because every later agent finds its inputs by these names rather than through the engine's results.
 */
export const LAYOUT = {
  inputs: 'inputs/',
  inventory: 'reports/inventory.json',
  /** One analysis per program that analyzed cleanly: `outputs/analyze/<PROGRAM>.json`. */
  analyses: 'outputs/analyze/',
  /** Inputs that are not programs (copybooks, JCL, unknown): a marker each, so their items succeed. */
  skipped: 'outputs/analyze-skipped/',
  /** Partial analyses of programs that failed, kept with their diagnostics for the report. */
  analysisFailures: 'reports/analysis-failures/',
  dependenciesJson: 'reports/dependencies.json',
  dependenciesMermaid: 'reports/dependencies.mmd',
  java: 'outputs/java/',
  /** One manifest per generated program: files, TODOs, LLM usage. */
  generation: 'outputs/generate/',
  validation: 'reports/validation.json',
  reportMarkdown: 'reports/migration-report.md',
  reportHtml: 'reports/migration-report.html',
} as const;

/** File-system safe program name for keys (program-ids may carry characters S3 keys dislike). */
function keySafe(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_');
}

export const analysisKey = (program: string): string => `${LAYOUT.analyses}${keySafe(program)}.json`;
export const analysisFailureKey = (program: string): string => `${LAYOUT.analysisFailures}${keySafe(program)}.json`;
export const generationKey = (program: string): string => `${LAYOUT.generation}${keySafe(program)}.json`;
export const skippedKey = (inputKey: string): string => `${LAYOUT.skipped}${inputKey.slice(LAYOUT.inputs.length)}.json`;
