import { detectFormat, splitLines } from './normalize';
import type { SourceFormat } from './types';

export type InventoryKind = 'program' | 'copybook' | 'jcl' | 'unknown';

interface InventoryFile {
  key: string;
  kind: InventoryKind;
  /** Program-id for programs, member name (file name without extension) otherwise. */
  name: string;
  lines: number;
  bytes: number;
  format: SourceFormat | null;
  encoding: 'ascii' | 'utf-8' | 'latin-1' | 'ebcdic';
  encodingProblems: Array<{ line: number; message: string }>;
}

export interface Inventory {
  files: InventoryFile[];
  totals: { files: number; programs: number; copybooks: number; jcl: number; unknown: number; lines: number };
}

const PROGRAM_EXT = /\.(cbl|cob|cobol|ccp|pco|sqb)$/i;
const COPYBOOK_EXT = /\.(cpy|copy|cpb|inc)$/i;
const JCL_EXT = /\.(jcl|prc|proc)$/i;

/** Any UTF-16 unit above 0x7F. */
const NON_ASCII = /[\u0080-\uffff]/;

function decode(content: string | Buffer): { text: string; encoding: InventoryFile['encoding']; problems: string[]; bytes: number } {
  if (typeof content === 'string') {
    const ascii = !NON_ASCII.test(content);
    return { text: content, encoding: ascii ? 'ascii' : 'utf-8', problems: [], bytes: Buffer.byteLength(content) };
  }
  const bytes = content.length;
  if (looksLikeEbcdic(content)) {
    return { text: ebcdicToAscii(content), encoding: 'ebcdic', problems: ['EBCDIC (code page 037) detected and converted'], bytes };
  }
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(content);
    const ascii = !NON_ASCII.test(text);
    return { text, encoding: ascii ? 'ascii' : 'utf-8', problems: [], bytes };
  } catch {
    return { text: new TextDecoder('latin1').decode(content), encoding: 'latin-1', problems: ['not valid UTF-8; decoded as Latin-1'], bytes };
  }
}

/** EBCDIC text is dominated by 0x40 (space) and 0xC1-0xF9 (letters, digits), and has almost no ASCII newlines. */
function looksLikeEbcdic(buf: Buffer): boolean {
  if (buf.length < 16) return false;
  const sample = buf.subarray(0, Math.min(buf.length, 4096));
  let spaces = 0;
  let high = 0;
  for (const b of sample) {
    if (b === 0x40) spaces++;
    if (b >= 0xc1 && b <= 0xf9) high++;
  }
  return (spaces + high) / sample.length > 0.6 && !sample.includes(0x20);
}

/** The printable subset of code page 037; anything else becomes a space. */
const EBCDIC_037: string[] = (() => {
  const table = new Array<string>(256).fill(' ');
  const put = (start: number, chars: string): void => {
    // The table's characters are all single UTF-16 units: index k of the string is character k.
    for (let k = 0; k < chars.length; k++) table[start + k] = chars[k];
  };
  put(0x4b, '.<(+|&');
  put(0x5a, '!$*);');
  put(0x60, '-/');
  put(0x6b, ',%_>?');
  put(0x7a, ':#@\'="');
  put(0x81, 'abcdefghi');
  put(0x91, 'jklmnopqr');
  put(0xa2, 'stuvwxyz');
  put(0xc1, 'ABCDEFGHI');
  put(0xd1, 'JKLMNOPQR');
  put(0xe2, 'STUVWXYZ');
  put(0xf0, '0123456789');
  return table;
})();

function ebcdicToAscii(buf: Buffer): string {
  let out = '';
  for (const b of buf) out += b === 0x25 || b === 0x15 ? '\n' : EBCDIC_037[b];
  return out;
}

function baseName(key: string): string {
  const file = key.split('/').pop() ?? key;
  return file.replace(/\.[^.]+$/, '').toUpperCase();
}

function classify(key: string, text: string): InventoryKind {
  const head = text.slice(0, 20000);
  const isJcl = /^\/\/[A-Z0-9$#@]{0,8}\s+(JOB|EXEC|DD|PROC)\b/m.test(head);
  const isProgram = /\b(IDENTIFICATION|ID)\s+DIVISION\b/i.test(head) || /\bPROGRAM-ID\b/i.test(head);
  const hasProcedure = /\bPROCEDURE\s+DIVISION\b/i.test(text);
  const looksLikeData = /^[ \d]{0,12}\s*(0[1-9]|[1-4][0-9]|66|77|88)\s+[A-Z0-9:-]+/im.test(head);
  if (JCL_EXT.test(key)) return isJcl ? 'jcl' : 'unknown';
  if (PROGRAM_EXT.test(key)) return isProgram || hasProcedure ? 'program' : looksLikeData ? 'copybook' : 'unknown';
  if (COPYBOOK_EXT.test(key)) return isProgram ? 'program' : 'copybook';
  if (isJcl) return 'jcl';
  if (isProgram) return 'program';
  if (looksLikeData) return 'copybook';
  return 'unknown';
}

function lineProblems(text: string): Array<{ line: number; message: string }> {
  const out: Array<{ line: number; message: string }> = [];
  splitLines(text).forEach((l, i) => {
    if (l.includes('\uFFFD')) out.push({ line: i + 1, message: 'undecodable byte (U+FFFD)' });
    if (l.includes('\t')) out.push({ line: i + 1, message: 'tab character' });
    // eslint-disable-next-line no-control-regex
    if (/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(l)) out.push({ line: i + 1, message: 'control character' });
  });
  return out;
}

function programName(text: string): string | undefined {
  const m = /\bPROGRAM-ID\s*\.?\s*['"]?([A-Za-z0-9_-]+)/i.exec(text);
  return m ? m[1].toUpperCase() : undefined;
}

/** Classifies the inputs of a migration run. Deterministic: files are sorted by key. */
export function discoverInventory(files: Array<{ key: string; content: string | Buffer }>): Inventory {
  const out: InventoryFile[] = [];
  for (const f of [...files].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))) {
    const decoded = decode(f.content);
    const kind = classify(f.key, decoded.text);
    const lines = decoded.text === '' ? 0 : splitLines(decoded.text).length;
    const problems = [
      ...decoded.problems.map((message) => ({ line: 0, message })),
      ...lineProblems(decoded.text),
    ].slice(0, 50);
    out.push({
      key: f.key,
      kind,
      name: (kind === 'program' ? programName(decoded.text) : undefined) ?? baseName(f.key),
      lines,
      bytes: decoded.bytes,
      format: kind === 'program' || kind === 'copybook' ? detectFormat(splitLines(decoded.text)) : null,
      encoding: decoded.encoding,
      encodingProblems: problems,
    });
  }
  const count = (k: InventoryKind): number => out.filter((f) => f.kind === k).length;
  return {
    files: out,
    totals: {
      files: out.length,
      programs: count('program'),
      copybooks: count('copybook'),
      jcl: count('jcl'),
      unknown: count('unknown'),
      lines: out.reduce((n, f) => n + f.lines, 0),
    },
  };
}
