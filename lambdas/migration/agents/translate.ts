import type { CobolAnalysis } from '../cobol/types';
import type { GeneratedJavaFile } from '../java/generate';
import { REFERENCE_FENCE } from '../../llm/offline';
import { estimateTokens } from '../../llm/tokens';
import { addUsage, emptyTotals, type LlmProvider, type UsageTotals } from '../../llm/types';

/**
 * LLM translation of paragraph bodies. The deterministic generator has already written the class: fields,
 * records, one method per paragraph. The LLM is asked to rewrite method bodies only, given the COBOL of the
 * paragraphs, the declarations they use and the deterministic body as the reference, so whatever it returns
 * lands inside a skeleton that already compiles. Bodies that do not fit (missing, unbalanced, declaring
 * types, cut off) keep the deterministic translation.
 */

export interface TranslateOptions {
  /** Context window of the model (tokens); defaults to the provider's. */
  contextTokens?: number;
  /** Answer budget per call (tokens). */
  maxOutputTokens?: number;
  temperature?: number;
  /** Called after each chunk with the share done and the tokens used so far. */
  onProgress?: (fraction: number, totals: UsageTotals) => Promise<void> | void;
}

export interface TranslationStats {
  methods: number;
  chunks: number;
  /** Bodies taken from the LLM's answer (identical or not). */
  translated: number;
  /** Bodies the LLM changed. */
  changed: number;
  /** Bodies kept deterministic because the answer did not fit. */
  fallbacks: number;
  /** Paragraphs too large for one prompt even alone: never sent. */
  tooLarge: number;
  /** Largest prompt sent, in estimated tokens (≤ the context minus the answer budget). */
  maxPromptTokens: number;
  fallbackReasons: Array<{ method: string; reason: string }>;
}

export interface TranslationResult {
  content: string;
  usage: UsageTotals;
  stats: TranslationStats;
}

interface Method {
  name: string;
  paragraph: string;
  section?: string;
  fromLine: number;
  toLine: number;
  /** Line indexes in the class file: the signature line and the closing brace. */
  open: number;
  close: number;
  body: string[];
  cobol: string;
  tokens: number;
}

const SIGNATURE = /^ {4}void ([A-Za-z_$][\w$]*)\(\) \{$/;
const PARAGRAPH_DOC = /^ {4}\/\*\* Paragraph (.+?) \(lines (\d+)-(\d+)(?:, section (.+?))?\)\. \*\/$/;
const SYSTEM_PROMPT = [
  'You translate COBOL paragraphs into the bodies of Java 17 methods of an existing class.',
  'The class, its fields, record classes and the runtime helper class Cobol already exist: use them exactly as the reference does,',
  'keep every field and method name, keep COBOL semantics (fixed-point decimals, truncation, PERFORM as method calls, GOBACK via Cobol.goback()).',
  'Improve on the reference where it left TODO comments or clumsy code; otherwise keep it.',
  'Answer with one block per method, in the order given, and nothing else:',
  '// BEGIN <methodName>',
  '<statements of the method body>',
  '// END <methodName>',
].join('\n');
/** Framing of a user prompt beyond its code (headings, instructions), in tokens. */
const PROMPT_OVERHEAD = 200;

/** Methods with their paragraph, COBOL text and deterministic body, in class order. */
function findMethods(lines: string[], analysis: CobolAnalysis, source: string[] | undefined): Method[] {
  const out: Method[] = [];
  for (let i = 1; i < lines.length; i++) {
    const sig = SIGNATURE.exec(lines[i]);
    const doc = sig ? PARAGRAPH_DOC.exec(lines[i - 1]) : null;
    if (!sig || !doc) continue;
    let close = i + 1;
    while (close < lines.length && lines[close] !== '    }') close++;
    if (close >= lines.length) break;
    const fromLine = Number(doc[2]);
    const toLine = Number(doc[3]);
    const paragraph = analysis.paragraphs.find((p) => p.name === doc[1] && p.line === fromLine);
    // Paragraphs with copied code: the statements' text (expanded) stands in for the source lines.
    const cobol =
      source && paragraph && !paragraphFromCopybook(analysis, fromLine, toLine)
        ? source.slice(fromLine - 1, toLine).join('\n')
        : (paragraph?.statements ?? []).map((s) => `${s.line}: ${s.text}`).join('\n');
    const body = lines.slice(i + 1, close);
    out.push({
      name: sig[1],
      paragraph: doc[1],
      ...(doc[4] ? { section: doc[4] } : {}),
      fromLine,
      toLine,
      open: i,
      close,
      body,
      cobol,
      tokens: estimateTokens(cobol) + estimateTokens(body.join('\n')) + 20,
    });
  }
  return out;
}

/** Copybook text carries the COPY statement's line: the program's lines there show the COPY, not the code. */
function paragraphFromCopybook(analysis: CobolAnalysis, from: number, to: number): boolean {
  return to > analysis.metrics.totalLines || from < 1 || analysis.copybooks.some((c) => c.line >= from && c.line <= to);
}

/** Field declarations (`    public … name …;`) of the class and its record classes, by field name. */
function declarations(main: string[], records: GeneratedJavaFile[]): Map<string, string> {
  const out = new Map<string, string>();
  const take = (line: string, owner?: string) => {
    const m = /^ {4}public (?:final )?[\w.<>[\]]+ ([A-Za-z_$][\w$]*)\b/.exec(line);
    if (!m) return;
    // A parenthesis before any '=' is a method; after it, a field initialised by a call.
    const paren = line.indexOf('(');
    const eq = line.indexOf('=');
    if (paren >= 0 && (eq < 0 || paren < eq)) return;
    out.set(m[1], owner ? `${owner}: ${line.trim()}` : line.trim());
  };
  for (const l of main) {
    if (SIGNATURE.test(l)) break;
    take(l);
  }
  for (const f of records) {
    const cls = /public (?:class|interface) (\w+)/.exec(f.content)?.[1] ?? '';
    for (const l of f.content.split('\n')) take(l, cls);
  }
  return out;
}

function referencedDeclarations(chunk: Method[], decls: Map<string, string>, budget: number): string {
  const text = chunk.map((m) => m.body.join('\n')).join('\n');
  const words = new Set(text.match(/[A-Za-z_$][\w$]*/g) ?? []);
  const lines: string[] = [];
  let used = 0;
  for (const [name, line] of decls) {
    if (!words.has(name)) continue;
    const t = estimateTokens(line) + 1;
    if (used + t > budget) {
      lines.push('// … further declarations omitted to fit the context');
      break;
    }
    lines.push(line);
    used += t;
  }
  return lines.join('\n');
}

function fence(info: string, body: string): string {
  // A body containing ``` would end the block early; Java never needs three backticks.
  return '```' + info + '\n' + body.replace(/```/g, '` ` `') + '\n```';
}

function blocks(methods: Method[]): string {
  return methods.map((m) => [`// BEGIN ${m.name}`, ...m.body.map((l) => l.replace(/^ {8}/, '')), `// END ${m.name}`].join('\n')).join('\n');
}

function buildPrompt(programName: string, analysis: CobolAnalysis, chunk: Method[], decls: string): string {
  const where = chunk[0].section ? `section ${chunk[0].section}` : 'the PROCEDURE DIVISION';
  return [
    `Program ${programName} (${analysis.fileName}), ${where}: ${chunk.length} paragraph(s).`,
    '',
    'Declarations the code uses:',
    fence('java', decls || '// (none)'),
    '',
    'COBOL:',
    fence('cobol', chunk.map((m) => `*> paragraph ${m.paragraph} → method ${m.name}()\n${m.cobol}`).join('\n')),
    '',
    'Reference translation (deterministic generator); answer in the same block format:',
    fence(REFERENCE_FENCE, blocks(chunk)),
  ].join('\n');
}

/**
 * Consecutive paragraphs of one section share a prompt while they fit; a paragraph that does not fit
 * alone is never sent. `budget` bounds prompt code, `answer` the expected answer.
 */
function chunkMethods(methods: Method[], budget: number, answer: number): { chunks: Method[][]; tooLarge: Method[] } {
  const chunks: Method[][] = [];
  const tooLarge: Method[] = [];
  let current: Method[] = [];
  let size = 0;
  let out = 0;
  const flush = () => {
    if (current.length > 0) chunks.push(current);
    current = [];
    size = 0;
    out = 0;
  };
  for (const m of methods) {
    const expected = Math.ceil(estimateTokens(m.body.join('\n')) * 1.2) + 10;
    if (m.tokens > budget || expected > answer) {
      flush();
      tooLarge.push(m);
      continue;
    }
    if (current.length > 0 && (current[0].section !== m.section || size + m.tokens > budget || out + expected > answer)) flush();
    current.push(m);
    size += m.tokens;
    out += expected;
  }
  flush();
  return { chunks, tooLarge };
}

/** The method bodies in an answer, by name. Code fences around the whole answer are tolerated. */
export function parseAnswer(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  let name: string | undefined;
  let body: string[] = [];
  for (const line of lines) {
    const begin = /^\s*\/\/ BEGIN ([A-Za-z_$][\w$]*)\s*$/.exec(line);
    const end = /^\s*\/\/ END ([A-Za-z_$][\w$]*)\s*$/.exec(line);
    if (begin) {
      name = begin[1];
      body = [];
    } else if (end && name === end[1]) {
      out.set(name, body);
      name = undefined;
    } else if (name !== undefined) body.push(line);
  }
  return out;
}

/**
 * Whether a body can replace the deterministic one: braces and parentheses balance outside literals and
 * comments, and it declares no type or method (the skeleton owns the structure). Returns the reason when not.
 */
export function bodyProblem(body: string[]): string | undefined {
  const text = body.join('\n');
  if (text.trim() === '') return 'empty body';
  let depth = 0;
  let parens = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    const next = text[i + 1];
    if (c === '/' && next === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) return 'unterminated comment';
      i = end + 1;
    } else if (c === '"' || c === "'") {
      if (c === '"' && text.startsWith('"""', i)) {
        const end = text.indexOf('"""', i + 3);
        if (end < 0) return 'unterminated text block';
        i = end + 2;
        continue;
      }
      let j = i + 1;
      while (j < text.length && text[j] !== c && text[j] !== '\n') j += text[j] === '\\' ? 2 : 1;
      if (text[j] !== c) return 'unterminated literal';
      i = j;
    } else if (c === '{') depth++;
    else if (c === '}') {
      if (--depth < 0) return 'unbalanced braces';
    } else if (c === '(') parens++;
    else if (c === ')') {
      if (--parens < 0) return 'unbalanced parentheses';
    }
  }
  if (depth !== 0) return 'unbalanced braces';
  if (parens !== 0) return 'unbalanced parentheses';
  if (/^\s*(public|private|protected|static)?\s*(class|interface|enum|record)\s+\w+/m.test(text)) return 'declares a type';
  if (/^\s*(public|private|protected)\s+[\w<>[\]]+\s+\w+\s*\(/m.test(text)) return 'declares a method';
  return undefined;
}

function leadingSpaces(line: string): number {
  let n = 0;
  while (line[n] === ' ') n++;
  return n;
}

function reindent(body: string[]): string[] {
  const indents = body.filter((l) => l.trim() !== '').map(leadingSpaces);
  const common = indents.length > 0 ? Math.min(...indents) : 0;
  return body.map((l) => (l.trim() === '' ? '' : '        ' + l.slice(common).replace(/\s+$/, '')));
}

/**
 * Translates the paragraph methods of the program class `main` with the LLM, chunked so that no prompt
 * (system + declarations + COBOL + reference) exceeds the context minus the answer budget.
 */
export async function translateParagraphs(
  provider: LlmProvider,
  input: { programName: string; analysis: CobolAnalysis; main: GeneratedJavaFile; records: GeneratedJavaFile[]; source?: string },
  opts: TranslateOptions = {},
): Promise<TranslationResult> {
  const lines = input.main.content.split('\n');
  const source = input.source?.replace(/\r\n/g, '\n').split('\n');
  const methods = findMethods(lines, input.analysis, source);
  const context = opts.contextTokens ?? provider.contextTokens;
  const answer = Math.max(64, Math.min(opts.maxOutputTokens ?? 4_096, Math.floor(context / 2)));
  const room = context - answer - estimateTokens(SYSTEM_PROMPT) - PROMPT_OVERHEAD;
  // Declarations get at most a quarter of the room; code the rest.
  const declBudget = Math.floor(room / 4);
  const { chunks, tooLarge } = chunkMethods(methods, room - declBudget, answer);
  const decls = declarations(lines, input.records);
  const usage = emptyTotals();
  const stats: TranslationStats = {
    methods: methods.length,
    chunks: chunks.length,
    translated: 0,
    changed: 0,
    fallbacks: tooLarge.length,
    tooLarge: tooLarge.length,
    maxPromptTokens: 0,
    fallbackReasons: tooLarge.map((m) => ({ method: m.name, reason: 'paragraph larger than the context allows' })),
  };
  const replacements = new Map<Method, string[]>();
  let done = 0;

  await Promise.all(
    chunks.map(async (chunk) => {
      const prompt = buildPrompt(input.programName, input.analysis, chunk, referencedDeclarations(chunk, decls, declBudget));
      stats.maxPromptTokens = Math.max(stats.maxPromptTokens, estimateTokens(SYSTEM_PROMPT) + estimateTokens(prompt));
      const response = await provider.complete({
        system: SYSTEM_PROMPT,
        messages: [{ role: 'user', content: prompt }],
        maxTokens: answer,
        temperature: opts.temperature ?? 0,
      });
      addUsage(usage, response);
      const bodies = parseAnswer(response.text);
      for (const m of chunk) {
        const body = bodies.get(m.name);
        const problem = body === undefined ? (response.finishReason === 'length' ? 'answer cut off at the token limit' : 'method missing from the answer') : bodyProblem(body);
        if (problem || body === undefined) {
          stats.fallbacks++;
          stats.fallbackReasons.push({ method: m.name, reason: problem ?? 'missing' });
          continue;
        }
        const next = reindent(body);
        stats.translated++;
        if (next.join('\n') !== m.body.join('\n')) stats.changed++;
        replacements.set(m, next);
      }
      done++;
      await opts.onProgress?.(done / chunks.length, usage);
    }),
  );

  // Rebuilt from the bottom so earlier line indexes stay valid.
  const out = [...lines];
  for (const m of [...methods].reverse()) {
    const body = replacements.get(m);
    if (body) out.splice(m.open + 1, m.close - m.open - 1, ...body);
  }
  stats.fallbackReasons.sort((a, b) => a.method.localeCompare(b.method));
  return { content: out.join('\n'), usage, stats };
}
