// The analysis is persisted as JSON (one file per program) and compared byte-for-byte in golden tests,
// so every type here is plain data: no classes, no Maps, no undefined-vs-missing ambiguity that matters.

type Severity = 'error' | 'warning' | 'info';

export interface Diagnostic {
  line: number;
  column: number;
  severity: Severity;
  message: string;
  /** Set when the problem is inside an expanded copybook. */
  copybook?: string;
}

export type SourceFormat = 'fixed' | 'free';

export interface EncodingIssue {
  line: number;
  column: number;
  message: string;
}

export interface Literal {
  kind: 'string' | 'number' | 'figurative' | 'hex';
  /** Strings: the value without quotes; numbers: the literal as written; figuratives: the canonical name. */
  value: string;
  /** `ALL 'x'` */
  all?: boolean;
}

export type Usage =
  | 'DISPLAY'
  | 'BINARY'
  | 'COMP'
  | 'COMP-1'
  | 'COMP-2'
  | 'COMP-3'
  | 'COMP-4'
  | 'COMP-5'
  | 'PACKED-DECIMAL'
  | 'INDEX'
  | 'POINTER'
  | 'NATIONAL';

type PicCategory =
  | 'alphabetic'
  | 'alphanumeric'
  | 'alphanumeric-edited'
  | 'numeric'
  | 'numeric-edited'
  | 'national'
  | 'dbcs';

export interface PicInfo {
  category: PicCategory;
  /** Character positions when USAGE DISPLAY (sign not counted unless SEPARATE). */
  length: number;
  /** Numeric only: total digit positions (9 and P). */
  digits: number;
  /** Numeric only: digits right of the implied decimal point (negative with leading-P scaling). */
  scale: number;
  signed: boolean;
}

interface Occurs {
  min: number;
  max: number;
  dependingOn?: string;
  indexedBy: string[];
  keys: Array<{ order: 'ascending' | 'descending'; name: string }>;
}

export interface ConditionValue {
  from: Literal;
  thru?: Literal;
}

export interface ConditionName {
  name: string;
  line: number;
  values: ConditionValue[];
}

export type DataSection = 'FILE' | 'WORKING-STORAGE' | 'LOCAL-STORAGE' | 'LINKAGE';

export interface DataItem {
  level: number;
  /** Upper-cased; 'FILLER' for unnamed items. */
  name: string;
  line: number;
  section: DataSection;
  pic?: string;
  picInfo?: PicInfo;
  usage: Usage;
  value?: Literal;
  occurs?: Occurs;
  redefines?: string;
  /** 66-level RENAMES target(s). */
  renames?: { from: string; thru?: string };
  signSeparate?: boolean;
  signLeading?: boolean;
  justified?: boolean;
  blankWhenZero?: boolean;
  external?: boolean;
  global?: boolean;
  /** Bytes of one occurrence; absent when it cannot be computed. */
  size?: number;
  /** Byte offset from the start of the level-01/77 record; absent when unknown. */
  offset?: number;
  /** Name of the copybook the entry came from, when it came from one. */
  copybook?: string;
  conditions: ConditionName[];
  children: DataItem[];
}

export interface FileDefinition {
  /** The SELECT name, upper-cased. */
  name: string;
  line: number;
  assignTo?: string;
  organization: 'SEQUENTIAL' | 'LINE SEQUENTIAL' | 'INDEXED' | 'RELATIVE';
  access: 'SEQUENTIAL' | 'RANDOM' | 'DYNAMIC';
  recordKey?: string;
  alternateKeys: Array<{ name: string; duplicates: boolean }>;
  relativeKey?: string;
  fileStatus?: string;
  optional: boolean;
  /** FD or SD */
  descriptor?: 'FD' | 'SD';
  fdLine?: number;
  recordContains?: { min?: number; max: number };
  blockContains?: number;
  labelRecords?: string;
  /** The 01-level record names under the FD. */
  records: string[];
  /** From OPEN statements: INPUT, OUTPUT, I-O, EXTEND. Sorted. */
  openModes: string[];
}

export interface CopybookUse {
  name: string;
  line: number;
  library?: string;
  resolved: boolean;
  replacing: Array<{ from: string; to: string }>;
  /** Copybooks this one includes. */
  nested: string[];
}

export interface Division {
  name: 'IDENTIFICATION' | 'ENVIRONMENT' | 'DATA' | 'PROCEDURE';
  line: number;
  endLine: number;
}

export interface Section {
  name: string;
  division: Division['name'];
  line: number;
  endLine: number;
}

export interface PerformSpec {
  inline: boolean;
  target?: string;
  thru?: string;
  times?: string;
  until?: string;
  testAfter?: boolean;
  varying?: Array<{ variable: string; from: string; by: string; until: string }>;
}

export interface Statement {
  verb: string;
  line: number;
  endLine: number;
  /** The statement's own tokens (nested statements excluded), joined by single spaces. */
  text: string;
  /** IF: the condition. */
  condition?: string;
  then?: Statement[];
  else?: Statement[];
  /** EVALUATE: subjects joined by ALSO are kept as written in `text`. */
  whens?: Array<{ line: number; conditions: string[]; body: Statement[] }>;
  /** Inline PERFORM body. */
  body?: Statement[];
  perform?: PerformSpec;
  /** AT END, INVALID KEY, ON SIZE ERROR, ON EXCEPTION… with their imperative statements. */
  handlers?: Array<{ phrase: string; body: Statement[] }>;
}

export interface Paragraph {
  name: string;
  section?: string;
  line: number;
  endLine: number;
  statements: Statement[];
  statementCount: number;
  complexity: number;
}

export interface PerformEdge {
  from: string;
  to: string;
  thru?: string;
  line: number;
  loop: boolean;
}

export interface CallEdge {
  from: string;
  /** Literal program name, or the identifier for a dynamic call. */
  target: string;
  dynamic: boolean;
  /** Dynamic calls: literal program names the identifier can hold (VALUE or MOVE 'X' TO it). */
  candidates: string[];
  using: string[];
  line: number;
  /** CALL, or the CICS command that transfers control. */
  via: 'CALL' | 'CICS LINK' | 'CICS XCTL';
}

export interface GoToEdge {
  from: string;
  to: string[];
  dependingOn?: string;
  line: number;
}

export interface ExecBlock {
  kind: 'SQL' | 'CICS' | 'DLI' | 'OTHER';
  /** First word(s) of the block, e.g. SELECT, DECLARE CURSOR, LINK, SEND MAP. */
  command: string;
  line: number;
  endLine: number;
  paragraph?: string;
  text: string;
}

export interface Metrics {
  totalLines: number;
  codeLines: number;
  commentLines: number;
  blankLines: number;
  /** Lines contributed by expanded copybooks. */
  copybookLines: number;
  sections: number;
  paragraphs: number;
  statements: number;
  dataItems: number;
  /** 1 + decision points (IF, WHEN, loops, conditional phrases, AND/OR, GO TO DEPENDING branches). */
  complexity: number;
  maxNesting: number;
}

export interface CobolAnalysis {
  schemaVersion: 1;
  fileName: string;
  programId?: string;
  format: SourceFormat | 'mixed';
  status: 'ok' | 'partial';
  divisions: Division[];
  sections: Section[];
  paragraphs: Paragraph[];
  /** PROCEDURE DIVISION USING items. */
  procedureUsing: string[];
  copybooks: CopybookUse[];
  files: FileDefinition[];
  dataItems: DataItem[];
  performs: PerformEdge[];
  calls: CallEdge[];
  gotos: GoToEdge[];
  execBlocks: ExecBlock[];
  metrics: Metrics;
  encodingIssues: EncodingIssue[];
  diagnostics: Diagnostic[];
}

export interface AnalyzeOptions {
  fileName: string;
  resolveCopybook?: (name: string) => string | undefined;
}
