import type { Diagnostic } from '../cobol/types';

/**
 * A program whose analysis has error diagnostics. Fatal to its item (never retried: the same source gives the
 * same analysis); the message carries the located diagnostics so ItemFailed shows them, and the partial
 * analysis is kept under reports/analysis-failures/ for the report.
 */
export class CobolAnalysisError extends Error {
  override readonly name = 'CobolAnalysisError';
  constructor(
    readonly program: string,
    readonly fileName: string,
    readonly diagnostics: Diagnostic[],
    readonly outputKey: string,
  ) {
    super(analysisFailureMessage(fileName, diagnostics));
  }
}

/** Bad agent input or workspace content the agent cannot work with (missing analysis, no inputs). */
export class MigrationInputError extends Error {
  override readonly name = 'MigrationInputError';
}

/** javac is required and missing: a deployment problem, not an item's. */
export class JavacUnavailableError extends Error {
  override readonly name = 'JavacUnavailableError';
}

const MAX_LISTED = 10;

function formatDiagnostic(d: Diagnostic): string {
  return `${d.copybook ? `${d.copybook}:` : ''}${d.line}:${d.column} ${d.severity}: ${d.message}`;
}

function analysisFailureMessage(fileName: string, diagnostics: Diagnostic[]): string {
  const errors = diagnostics.filter((d) => d.severity === 'error');
  const listed = errors.slice(0, MAX_LISTED).map(formatDiagnostic);
  const more = errors.length > MAX_LISTED ? `; … ${errors.length - MAX_LISTED} more` : '';
  return `${fileName}: ${errors.length} error(s) in the COBOL source: ${listed.join('; ')}${more}`;
}
