import type { SourceLine } from './normalize';
import type { Diagnostic } from './types';
import { entryAt } from './lists';

type TokenKind =
  | 'word'
  | 'number'
  | 'string'
  | 'pic'
  | 'period'
  | 'lparen'
  | 'rparen'
  | 'operator'
  | 'pseudo'
  | 'exec';

export interface Token {
  kind: TokenKind;
  /** Source form; literals keep their quotes (doubled quotes inside), so tokens can be re-tokenized. */
  text: string;
  /** Words: upper-cased text. Strings: the value without quotes. Others: text. */
  upper: string;
  line: number;
  column: number;
  endLine: number;
  /** Fixed format: the token starts in area A (columns 8-11). */
  areaA?: boolean;
  /** Hex/national prefix of a literal (X, N, Z, G, B). */
  prefix?: string;
  execKind?: string;
  /** Set on tokens expanded from a copybook; line/column then point at the COPY statement. */
  copybook?: string;
  copyLine?: number;
}

const WORD_CHAR = /[A-Za-z0-9_-]/;
const TAG = /^:[A-Za-z0-9_-]+:/;
const OPERATORS = ['**', '>=', '<=', '<>', '=', '>', '<', '+', '-', '*', '/', '&', ':'];

function isSpace(ch: string | undefined): boolean {
  return ch === undefined || ch === ' ' || ch === '\t';
}

function classifyWord(text: string): 'word' | 'number' {
  return /^[+-]?(\d+(\.\d+)?|\.\d+)$/.test(text) ? 'number' : 'word';
}

function makeToken(kind: TokenKind, text: string, line: number, column: number, extra: Partial<Token> = {}): Token {
  const upper = kind === 'word' || kind === 'pic' ? text.toUpperCase() : text;
  return { kind, text, upper, line, column, endLine: line, ...extra };
}

function quoteLiteral(value: string, quote = "'"): string {
  return quote + value.split(quote).join(quote + quote) + quote;
}

interface Cursor {
  index: number;
  pos: number;
}

/**
 * Turns normalized lines into tokens. Handles what is lexical in COBOL and would be painful later: literal and
 * word continuation, PICTURE strings (which contain periods and parentheses), `*>` comments, `:TAG:` words
 * used by COPY REPLACING, and EXEC … END-EXEC blocks captured raw.
 */
export function tokenize(lines: SourceLine[], diagnostics: Diagnostic[]): Token[] {
  const code = lines.filter((l) => l.kind === 'code');
  const tokens: Token[] = [];
  let expectPic = false;
  let joinNext = false;
  const cur: Cursor = { index: 0, pos: 0 };

  const push = (t: Token): void => {
    if (joinNext) {
      joinNext = false;
      const prev = entryAt(tokens, tokens.length - 1);
      if (prev && (prev.kind === 'word' || prev.kind === 'number') && (t.kind === 'word' || t.kind === 'number')) {
        prev.text += t.text;
        prev.kind = classifyWord(prev.text);
        prev.upper = prev.kind === 'word' ? prev.text.toUpperCase() : prev.text;
        prev.endLine = t.line;
        return;
      }
    }
    tokens.push(t);
  };

  while (cur.index < code.length) {
    const sl = code[cur.index];
    if (cur.pos === 0 && sl.continuation) {
      joinNext = true;
      const first = sl.text.search(/\S/);
      cur.pos = first < 0 ? sl.text.length : first;
    }
    const text = sl.text;
    if (cur.pos >= text.length) {
      cur.index++;
      cur.pos = 0;
      continue;
    }
    const ch = text[cur.pos];
    const col = sl.column + cur.pos;
    if (isSpace(ch) || ch === ',' || ch === ';') {
      if (ch !== ' ') joinNext = false;
      cur.pos++;
      continue;
    }
    if (ch === '*' && text[cur.pos + 1] === '>') {
      cur.pos = text.length;
      continue;
    }
    const areaA = sl.format === 'fixed' ? col <= 11 : undefined;
    const at = (extra: Partial<Token> = {}): Partial<Token> => (areaA === undefined ? extra : { areaA, ...extra });

    if (expectPic) {
      let end = cur.pos;
      while (end < text.length && !isSpace(text[end])) end++;
      let pic = text.slice(cur.pos, end);
      if (pic.toUpperCase() === 'IS') {
        push(makeToken('word', pic, sl.line, col, at()));
        cur.pos = end;
        continue;
      }
      expectPic = false;
      let trailing = '';
      if (/[.,;]$/.test(pic) && pic.length > 1) {
        trailing = pic[pic.length - 1];
        pic = pic.slice(0, -1);
      }
      push(makeToken('pic', pic, sl.line, col, at()));
      if (trailing === '.') push(makeToken('period', '.', sl.line, col + pic.length));
      cur.pos = end;
      continue;
    }

    // Literals, possibly prefixed (X'..', N"..") and possibly continued on following lines.
    const prefixMatch = /^(NX|[XNZGB])(?=['"])/i.exec(text.slice(cur.pos));
    if (ch === '"' || ch === "'" || prefixMatch) {
      const prefix = prefixMatch ? prefixMatch[1].toUpperCase() : undefined;
      const startLine = sl.line;
      let p = cur.pos + (prefix ? prefix.length : 0);
      const quote = text[p];
      p++;
      let value = '';
      let lineRef = sl;
      let closed = false;
      for (;;) {
        const t = lineRef.text;
        while (p < t.length) {
          if (t[p] === quote) {
            if (t[p + 1] === quote) {
              value += quote;
              p += 2;
              continue;
            }
            closed = true;
            p++;
            break;
          }
          value += t[p];
          p++;
        }
        if (closed) break;
        const next = entryAt(code, cur.index + 1);
        if (next && next.continuation) {
          if (lineRef.padTo !== undefined && t.length < lineRef.padTo) value += ' '.repeat(lineRef.padTo - t.length);
          const q = next.text.search(/\S/);
          if (q >= 0 && (next.text[q] === '"' || next.text[q] === "'")) {
            cur.index++;
            lineRef = next;
            p = q + 1;
            continue;
          }
          diagnostics.push({
            line: next.line,
            column: next.column + Math.max(q, 0),
            severity: 'error',
            message: 'continuation of an alphanumeric literal must start with a quote',
          });
        } else {
          diagnostics.push({ line: lineRef.line, column: sl.column + cur.pos, severity: 'error', message: 'unterminated alphanumeric literal' });
        }
        break;
      }
      const src = (prefix ?? '') + quoteLiteral(value, quote);
      const tok = makeToken('string', src, startLine, col, at(prefix ? { prefix } : {}));
      tok.upper = value;
      tok.endLine = lineRef.line;
      push(tok);
      cur.pos = p;
      if (lineRef !== sl) {
        // The loop moved to a continuation line; later tokens on it must not be joined to the literal.
        joinNext = false;
      }
      continue;
    }

    // Signed or fractional numeric literal; COBOL needs spaces around arithmetic operators, so "-1" is a literal.
    const prevCh = text[cur.pos - 1];
    const signed = /^[+-](\d+(\.\d+)?|\.\d+)(?![A-Za-z0-9_-])/.exec(text.slice(cur.pos));
    const fraction = /^\.\d+(?![A-Za-z0-9_-])/.exec(text.slice(cur.pos));
    const num = (ch === '+' || ch === '-') && (isSpace(prevCh) || prevCh === '(') ? signed : ch === '.' && isSpace(prevCh) ? fraction : null;
    if (num) {
      push(makeToken('number', num[0], sl.line, col, at()));
      cur.pos += num[0].length;
      continue;
    }

    if (/[A-Za-z0-9_]/.test(ch) || TAG.test(text.slice(cur.pos))) {
      let end = cur.pos;
      while (end < text.length) {
        if (WORD_CHAR.test(text[end])) end++;
        else {
          const tag = TAG.exec(text.slice(end));
          if (tag) end += tag[0].length;
          else break;
        }
      }
      if (/^\d+$/.test(text.slice(cur.pos, end)) && text[end] === '.' && /\d/.test(text[end + 1] ?? '')) {
        end++;
        while (end < text.length && /\d/.test(text[end])) end++;
      }
      const word = text.slice(cur.pos, end);
      const kind = classifyWord(word);
      const tok = makeToken(kind, word, sl.line, col, at());
      cur.pos = end;
      const upper = tok.upper;
      if (kind === 'word' && (upper === 'EXEC' || upper === 'EXECUTE')) {
        const exec = captureExec(code, cur, tok, diagnostics);
        if (exec) {
          push(exec);
          continue;
        }
      }
      push(tok);
      if (kind === 'word' && (upper === 'PIC' || upper === 'PICTURE')) expectPic = true;
      continue;
    }

    if (ch === '.') {
      push(makeToken('period', '.', sl.line, col));
      cur.pos++;
      continue;
    }
    if (ch === '(' || ch === ')') {
      push(makeToken(ch === '(' ? 'lparen' : 'rparen', ch, sl.line, col, at()));
      cur.pos++;
      continue;
    }
    if (ch === '=' && text[cur.pos + 1] === '=') {
      push(makeToken('pseudo', '==', sl.line, col, at()));
      cur.pos += 2;
      continue;
    }
    const op = OPERATORS.find((o) => text.startsWith(o, cur.pos));
    if (op) {
      push(makeToken('operator', op, sl.line, col, at()));
      cur.pos += op.length;
      continue;
    }
    diagnostics.push({ line: sl.line, column: col, severity: 'warning', message: `unexpected character '${ch}'` });
    cur.pos++;
  }
  return tokens;
}

/** Captures EXEC <kind> … END-EXEC as one token; the cursor ends after END-EXEC. */
function captureExec(code: SourceLine[], cur: Cursor, execWord: Token, diagnostics: Diagnostic[]): Token | undefined {
  const parts: string[] = [];
  let index = cur.index;
  let pos = cur.pos;
  while (index < code.length) {
    const t = code[index].text;
    const rest = t.slice(pos);
    const m = /END-EXEC/i.exec(rest);
    if (m) {
      parts.push(rest.slice(0, m.index));
      const body = parts.join(' ').replace(/\s+/g, ' ').trim();
      const kindMatch = /^(\S+)\s*([\s\S]*)$/.exec(body);
      const kind = kindMatch ? kindMatch[1].toUpperCase() : '';
      const tok = makeToken('exec', kindMatch ? kindMatch[2] : '', execWord.line, execWord.column, {
        execKind: kind,
        ...(execWord.areaA !== undefined ? { areaA: execWord.areaA } : {}),
      });
      tok.upper = tok.text.toUpperCase();
      tok.endLine = code[index].line;
      cur.index = index;
      cur.pos = pos + m.index + m[0].length;
      return tok;
    }
    parts.push(rest);
    index++;
    pos = 0;
  }
  diagnostics.push({ line: execWord.line, column: execWord.column, severity: 'error', message: 'EXEC block without END-EXEC' });
  return undefined;
}

/** Tokenizes a single free-format fragment (used to re-read statement text). */
export function tokenizeText(text: string): Token[] {
  const line: SourceLine = { line: 1, kind: 'code', text, column: 1, continuation: false, format: 'free' };
  return tokenize([line], []);
}
