import type { Token } from './tokenizer';
import type { Diagnostic, FileDefinition } from './types';
import { entryAt } from './lists';

const SELECT_WORDS = new Set([
  'ASSIGN', 'ORGANIZATION', 'ACCESS', 'RECORD', 'ALTERNATE', 'FILE', 'STATUS', 'RELATIVE', 'SEQUENTIAL', 'INDEXED',
  'LINE', 'RESERVE', 'PADDING', 'LOCK', 'SHARING', 'COLLATING',
]);

/** Parses FILE-CONTROL SELECT entries of the ENVIRONMENT DIVISION token range. */
export function parseFileControl(tokens: Token[], start: number, end: number, diagnostics: Diagnostic[]): FileDefinition[] {
  const files: FileDefinition[] = [];
  let i = start;
  while (i < end) {
    const t = tokens[i];
    if (t.kind !== 'word' || t.upper !== 'SELECT') {
      i++;
      continue;
    }
    let j = i + 1;
    let optional = false;
    if (tokens[j]?.upper === 'OPTIONAL') {
      optional = true;
      j++;
    }
    const nameTok = entryAt(tokens, j);
    if (!nameTok || nameTok.kind !== 'word') {
      diagnostics.push({ line: t.line, column: t.column, severity: 'error', message: 'SELECT without a file name' });
      i = j;
      continue;
    }
    const file: FileDefinition = {
      name: nameTok.upper,
      line: t.line,
      organization: 'SEQUENTIAL',
      access: 'SEQUENTIAL',
      alternateKeys: [],
      optional,
      records: [],
      openModes: [],
    };
    j++;
    const skip = (...words: string[]): void => {
      while (tokens[j] && words.includes(tokens[j].upper)) j++;
    };
    while (j < end && tokens[j].kind !== 'period' && tokens[j].upper !== 'SELECT') {
      const u = tokens[j].upper;
      if (u === 'ASSIGN') {
        j++;
        skip('TO', 'USING');
        const target = entryAt(tokens, j);
        if (target) {
          file.assignTo = target.kind === 'string' ? target.upper : target.upper;
          j++;
          // ASSIGN TO DISK 'name' / EXTERNAL name: keep the most specific operand.
          while (tokens[j] && (tokens[j].kind === 'string' || (tokens[j].kind === 'word' && !SELECT_WORDS.has(tokens[j].upper)))) {
            file.assignTo = tokens[j].upper;
            j++;
          }
        }
        continue;
      }
      if (u === 'ORGANIZATION') {
        j++;
        skip('IS');
        const org = tokens[j]?.upper;
        if (org === 'LINE') {
          file.organization = 'LINE SEQUENTIAL';
          j += 2;
        } else if (org === 'INDEXED' || org === 'RELATIVE' || org === 'SEQUENTIAL') {
          file.organization = org;
          j++;
        } else if (org === 'RECORD') {
          j += 2;
        }
        continue;
      }
      if (u === 'INDEXED' || u === 'RELATIVE' || (u === 'SEQUENTIAL' && tokens[j - 1]?.upper !== 'MODE' && tokens[j - 1]?.upper !== 'IS')) {
        if (tokens[j + 1]?.upper !== 'KEY') {
          file.organization = u;
          j++;
          continue;
        }
      }
      if (u === 'ACCESS') {
        j++;
        skip('MODE', 'IS');
        const acc = tokens[j]?.upper;
        if (acc === 'SEQUENTIAL' || acc === 'RANDOM' || acc === 'DYNAMIC') file.access = acc;
        else diagnostics.push({ line: tokens[j]?.line ?? t.line, column: tokens[j]?.column ?? t.column, severity: 'error', message: `unknown ACCESS MODE '${tokens[j]?.text ?? ''}'` });
        j++;
        continue;
      }
      if (u === 'RECORD' && tokens[j + 1]?.upper !== 'DELIMITER') {
        j++;
        skip('KEY', 'IS');
        if (tokens[j]) file.recordKey = tokens[j].upper;
        j++;
        continue;
      }
      if (u === 'ALTERNATE') {
        j++;
        skip('RECORD', 'KEY', 'IS');
        const name = tokens[j]?.upper;
        j++;
        let duplicates = false;
        if (tokens[j]?.upper === 'WITH' || tokens[j]?.upper === 'DUPLICATES') {
          skip('WITH', 'DUPLICATES');
          duplicates = true;
        }
        if (name) file.alternateKeys.push({ name, duplicates });
        continue;
      }
      if (u === 'RELATIVE') {
        j++;
        skip('KEY', 'IS');
        if (tokens[j]) file.relativeKey = tokens[j].upper;
        j++;
        continue;
      }
      if (u === 'FILE' || u === 'STATUS') {
        j++;
        skip('STATUS', 'IS');
        if (tokens[j]) file.fileStatus = tokens[j].upper;
        j++;
        continue;
      }
      j++;
    }
    if (tokens[j]?.kind !== 'period') {
      const at = tokens[j - 1] ?? t;
      diagnostics.push({ line: at.line, column: at.column, severity: 'warning', message: `SELECT ${file.name} not terminated by a period` });
    }
    if (!file.assignTo) diagnostics.push({ line: t.line, column: t.column, severity: 'error', message: `SELECT ${file.name} has no ASSIGN clause` });
    if (file.organization === 'INDEXED' && !file.recordKey) {
      diagnostics.push({ line: t.line, column: t.column, severity: 'error', message: `indexed file ${file.name} has no RECORD KEY` });
    }
    files.push(file);
    i = j;
  }
  return files;
}
