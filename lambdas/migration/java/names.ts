const JAVA_RESERVED = new Set([
  'abstract', 'assert', 'boolean', 'break', 'byte', 'case', 'catch', 'char', 'class', 'const', 'continue', 'default',
  'do', 'double', 'else', 'enum', 'extends', 'final', 'finally', 'float', 'for', 'goto', 'if', 'implements', 'import',
  'instanceof', 'int', 'interface', 'long', 'native', 'new', 'package', 'private', 'protected', 'public', 'return',
  'short', 'static', 'strictfp', 'super', 'switch', 'synchronized', 'this', 'throw', 'throws', 'transient', 'try',
  'void', 'volatile', 'while', 'true', 'false', 'null', 'var', 'record', 'yield', 'sealed', 'permits', '_',
]);

/** Names the generated code uses for itself; COBOL-derived names must not shadow them. */
const GENERATED = new Set(['Cobol', 'Object', 'String', 'BigDecimal', 'Math', 'System', 'Override', 'Record', 'Integer', 'Long']);

function words(cobolName: string): string[] {
  return cobolName
    .replace(/[^A-Za-z0-9]+/g, ' ')
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .map((w) => w.toLowerCase());
}

function guard(id: string, prefix: string): string {
  let out = id === '' ? prefix : id;
  if (/^[0-9]/.test(out)) out = prefix + out.charAt(0).toUpperCase() + out.slice(1);
  if (JAVA_RESERVED.has(out)) out += '_';
  return out;
}

/** WS-ACCOUNT-BAL → wsAccountBal; 1000-INIT → p1000Init (identifiers cannot start with a digit). */
export function camel(cobolName: string, prefix = 'p'): string {
  const w = words(cobolName);
  const id = w.map((x, i) => (i === 0 ? x : x.charAt(0).toUpperCase() + x.slice(1))).join('');
  return guard(id, prefix);
}

/** WS-ACCOUNT → WsAccount. */
export function pascal(cobolName: string, prefix = 'C'): string {
  const id = words(cobolName).map((x) => x.charAt(0).toUpperCase() + x.slice(1)).join('');
  const out = guard(id, prefix);
  return GENERATED.has(out) ? out + 'Record' : out;
}

/** A Java package segment: lower-case letters and digits, not reserved. */
export function packageSegment(cobolName: string): string {
  const id = words(cobolName).join('');
  return guard(id === '' ? 'program' : id, 'p');
}

/** Hands out unique identifiers within one Java scope. */
export class NameScope {
  private readonly used = new Set<string>();

  constructor(reserved: Iterable<string> = []) {
    for (const r of reserved) this.used.add(r.toLowerCase());
  }

  take(candidate: string): string {
    let name = candidate;
    let n = 2;
    // Java identifiers are case-sensitive, but class names must also be unique on case-insensitive file systems.
    while (this.used.has(name.toLowerCase())) name = `${candidate}${n++}`;
    this.used.add(name.toLowerCase());
    return name;
  }

  has(name: string): boolean {
    return this.used.has(name.toLowerCase());
  }
}

/** A Java string literal. Non-ASCII characters become \\u escapes so the source is ASCII-only. */
export function javaString(value: string): string {
  let out = '"';
  for (const ch of value) {
    const code = ch.codePointAt(0);
    // A string iterates by whole code points: `ch` is never empty.
    if (code === undefined) throw new Error('internal error: empty character in a string');
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (code < 0x20 || code > 0x7e) {
      if (code > 0xffff) {
        const s = String.fromCodePoint(code);
        out += `\\u${s.charCodeAt(0).toString(16).padStart(4, '0')}\\u${s.charCodeAt(1).toString(16).padStart(4, '0')}`;
      } else out += `\\u${code.toString(16).padStart(4, '0')}`;
    } else out += ch;
  }
  return out + '"';
}

/**
 * Text safe inside a // comment: javac decodes backslash-u escapes everywhere (so \\u000a would end the comment),
 * so backslashes are doubled, line breaks removed and non-ASCII replaced.
 */
export function commentText(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/[\r\n]+/g, ' ').replace(/[^\x20-\x7e]/g, '?');
}
