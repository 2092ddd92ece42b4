import { readLiteral } from './literals';
import { analyzePic } from './pic';
import type { Token } from './tokenizer';
import type { ConditionValue, DataItem, DataSection, Diagnostic, Usage } from './types';
import { entryAt } from './lists';

interface FdEntry {
  name: string;
  descriptor: 'FD' | 'SD';
  line: number;
  recordContains?: { min?: number; max: number };
  blockContains?: number;
  labelRecords?: string;
  records: string[];
}

export interface DataDivisionResult {
  items: DataItem[];
  fds: FdEntry[];
}

const USAGE_WORDS: Partial<Record<string, Usage>> = {
  DISPLAY: 'DISPLAY',
  BINARY: 'BINARY',
  COMP: 'COMP',
  COMPUTATIONAL: 'COMP',
  'COMP-1': 'COMP-1',
  'COMPUTATIONAL-1': 'COMP-1',
  'COMP-2': 'COMP-2',
  'COMPUTATIONAL-2': 'COMP-2',
  'COMP-3': 'COMP-3',
  'COMPUTATIONAL-3': 'COMP-3',
  'COMP-4': 'COMP-4',
  'COMPUTATIONAL-4': 'COMP-4',
  'COMP-5': 'COMP-5',
  'COMPUTATIONAL-5': 'COMP-5',
  'PACKED-DECIMAL': 'PACKED-DECIMAL',
  INDEX: 'INDEX',
  POINTER: 'POINTER',
  NATIONAL: 'NATIONAL',
};

const CLAUSE_WORDS = new Set([
  'PIC', 'PICTURE', 'USAGE', 'VALUE', 'VALUES', 'OCCURS', 'REDEFINES', 'SIGN', 'LEADING', 'TRAILING', 'SEPARATE',
  'JUSTIFIED', 'JUST', 'BLANK', 'SYNC', 'SYNCHRONIZED', 'EXTERNAL', 'GLOBAL', 'IS', 'RENAMES', 'TIMES', 'DEPENDING',
  'INDEXED', 'ASCENDING', 'DESCENDING', 'KEY', 'ON', 'BY', 'WHEN', 'ZERO', 'CHARACTER', 'TO', 'RIGHT', 'LEFT', 'ARE', 'THRU', 'THROUGH',
  ...Object.keys(USAGE_WORDS),
]);

const SECTION_NAMES: Partial<Record<string, DataSection | 'OTHER'>> = {
  FILE: 'FILE',
  'WORKING-STORAGE': 'WORKING-STORAGE',
  'LOCAL-STORAGE': 'LOCAL-STORAGE',
  LINKAGE: 'LINKAGE',
  SCREEN: 'OTHER',
  REPORT: 'OTHER',
  COMMUNICATION: 'OTHER',
};

/** Column of each entry's level number, kept out of the serialized item. */
const COLUMNS = new WeakMap<DataItem, number>();

function validLevel(n: number): boolean {
  return (n >= 1 && n <= 49) || n === 66 || n === 77 || n === 88;
}

/** A level number that starts a new entry even though the previous one lacked its period. */
function startsEntry(tokens: Token[], i: number): boolean {
  const t = entryAt(tokens, i);
  if (t?.kind !== 'number' || !/^\d{1,2}$/.test(t.text) || !validLevel(Number(t.text))) return false;
  const next = entryAt(tokens, i + 1);
  return next?.kind === 'word' && !CLAUSE_WORDS.has(next.upper) && next.upper !== 'TIMES';
}

export function parseDataDivision(tokens: Token[], start: number, end: number, diagnostics: Diagnostic[]): DataDivisionResult {
  const items: DataItem[] = [];
  const fds: FdEntry[] = [];
  let section: DataSection | 'OTHER' = 'WORKING-STORAGE';
  let currentFd: FdEntry | undefined;
  const stack: DataItem[] = [];
  let lastItem: DataItem | undefined;
  let record: DataItem | undefined;
  let i = start;

  const report = (t: Token, severity: Diagnostic['severity'], message: string): void => {
    diagnostics.push({ line: t.line, column: t.column, severity, message, ...(t.copybook ? { copybook: t.copybook } : {}) });
  };
  const skipSentence = (): void => {
    while (i < end && tokens[i].kind !== 'period') i++;
    i++;
  };

  while (i < end) {
    const t = tokens[i];
    if (t.kind === 'period') {
      i++;
      continue;
    }
    if (t.kind === 'exec') {
      i++;
      continue;
    }
    if (t.kind === 'word' && tokens[i + 1]?.upper === 'SECTION') {
      const s = SECTION_NAMES[t.upper];
      if (!s) report(t, 'warning', `unknown data section ${t.upper}`);
      else if (s === 'OTHER') report(t, 'info', `${t.upper} SECTION is not analyzed`);
      section = s ?? 'OTHER';
      currentFd = undefined;
      stack.length = 0;
      record = undefined;
      i += 2;
      continue;
    }
    if (section === 'OTHER') {
      i++;
      continue;
    }
    if (t.kind === 'word' && (t.upper === 'FD' || t.upper === 'SD')) {
      currentFd = parseFd(tokens, i, end);
      fds.push(currentFd);
      stack.length = 0;
      record = undefined;
      i += 2;
      while (i < end && tokens[i].kind !== 'period' && !(startsEntry(tokens, i) && Number(tokens[i].text) === 1)) i++;
      continue;
    }
    if (t.kind !== 'number') {
      report(t, 'error', `expected a level number, found '${t.text}'`);
      skipSentence();
      continue;
    }
    const level = Number(t.text);
    if (!/^\d{1,2}$/.test(t.text) || !validLevel(level)) {
      report(t, 'error', `invalid level number ${t.text}`);
      skipSentence();
      continue;
    }
    const parsed = parseEntry(tokens, i, end, section, report);
    i = parsed.next;
    const item = parsed.item;
    if (level === 88) {
      const owner = lastItem;
      if (!owner) report(t, 'error', `88-level ${item.name} has no conditional variable`);
      else owner.conditions.push({ name: item.name, line: item.line, values: parsed.conditionValues });
      continue;
    }
    if (level === 66) {
      if (record) record.children.push(item);
      else report(t, 'error', `66-level ${item.name} outside a record`);
      continue;
    }
    if (level === 1 || level === 77) {
      stack.length = 0;
      items.push(item);
      record = item;
      if (currentFd && level === 1) currentFd.records.push(item.name);
    } else {
      while (stack.length > 0 && stack[stack.length - 1].level >= level) stack.pop();
      const parent = entryAt(stack, stack.length - 1);
      if (!parent) {
        report(t, 'error', `level ${level} item ${item.name} has no level-01 parent`);
        items.push(item);
        record = item;
      } else {
        if (parent.level === 77) report(t, 'error', `77-level ${parent.name} cannot have subordinate items`);
        parent.children.push(item);
      }
    }
    stack.push(item);
    lastItem = item;
  }
  for (const item of items) checkItem(item, diagnostics);
  return { items, fds };
}

function parseFd(tokens: Token[], i: number, end: number): FdEntry {
  const fdTok = tokens[i];
  const fd: FdEntry = { name: (tokens[i + 1]?.upper ?? '').toUpperCase(), descriptor: fdTok.upper as 'FD' | 'SD', line: fdTok.line, records: [] };
  let j = i + 2;
  const nums = (k: number): number | undefined => (tokens[k]?.kind === 'number' ? Number(tokens[k].text) : undefined);
  while (j < end && tokens[j].kind !== 'period') {
    const u = tokens[j].upper;
    if (u === 'BLOCK') {
      let k = j + 1;
      if (tokens[k]?.upper === 'CONTAINS') k++;
      fd.blockContains = nums(k);
    } else if (u === 'RECORD' && tokens[j + 1]?.upper !== 'IS') {
      let k = j + 1;
      if (tokens[k]?.upper === 'CONTAINS') k++;
      const a = nums(k);
      const max = tokens[k + 1]?.upper === 'TO' ? nums(k + 2) : undefined;
      if (a !== undefined) fd.recordContains = max !== undefined ? { min: a, max } : { max: a };
      if (tokens[k]?.upper === 'IS' || tokens[k]?.upper === 'VARYING') {
        let m = k;
        while (m < end && tokens[m].kind !== 'period' && tokens[m].upper !== 'FROM') m++;
        const from = nums(m + 1);
        const to = tokens[m + 2]?.upper === 'TO' ? nums(m + 3) : undefined;
        if (to !== undefined) fd.recordContains = { ...(from !== undefined ? { min: from } : {}), max: to };
      }
    } else if (u === 'LABEL') {
      let k = j + 1;
      while (k < end && ['RECORD', 'RECORDS', 'IS', 'ARE'].includes(tokens[k].upper)) k++;
      if (tokens[k]?.kind === 'word') fd.labelRecords = tokens[k].upper;
    }
    j++;
  }
  return fd;
}

interface ParsedEntry {
  item: DataItem;
  conditionValues: ConditionValue[];
  next: number;
}

function parseEntry(
  tokens: Token[],
  start: number,
  end: number,
  section: DataSection,
  report: (t: Token, s: Diagnostic['severity'], m: string) => void,
): ParsedEntry {
  const levelTok = tokens[start];
  const level = Number(levelTok.text);
  let i = start + 1;
  let name = 'FILLER';
  const nameTok = entryAt(tokens, i);
  if (nameTok && nameTok.kind === 'word' && (!CLAUSE_WORDS.has(nameTok.upper) || nameTok.upper === 'FILLER')) {
    name = nameTok.upper;
    i++;
  }
  const item: DataItem = {
    level,
    name,
    line: levelTok.line,
    section,
    usage: 'DISPLAY',
    conditions: [],
    children: [],
    ...(levelTok.copybook ? { copybook: levelTok.copybook } : {}),
  };
  COLUMNS.set(item, levelTok.column);
  const conditionValues: ConditionValue[] = [];
  let usageSet = false;
  while (i < end && tokens[i].kind !== 'period') {
    if (startsEntry(tokens, i) && i > start + 1) {
      report(tokens[i - 1], 'error', `data description of ${name} not terminated by a period (next entry at level ${tokens[i].text})`);
      return finish(i);
    }
    const t = tokens[i];
    const u = t.upper;
    if (t.kind === 'word' && (u === 'PIC' || u === 'PICTURE')) {
      i++;
      if (tokens[i]?.upper === 'IS') i++;
      const picTok = entryAt(tokens, i);
      if (picTok?.kind !== 'pic') {
        report(t, 'error', 'PICTURE clause without a picture string');
        continue;
      }
      item.pic = picTok.text.toUpperCase();
      i++;
      continue;
    }
    if (u === 'USAGE') {
      i++;
      if (tokens[i]?.upper === 'IS') i++;
      const usage = USAGE_WORDS[tokens[i]?.upper ?? ''];
      if (!usage) report(tokens[i] ?? t, 'error', `unknown USAGE '${tokens[i]?.text ?? ''}'`);
      else {
        item.usage = usage;
        usageSet = true;
      }
      i++;
      continue;
    }
    const usageWord = t.kind === 'word' ? USAGE_WORDS[u] : undefined;
    if (usageWord) {
      item.usage = usageWord;
      usageSet = true;
      i++;
      continue;
    }
    if (u === 'VALUE' || u === 'VALUES') {
      i++;
      if (tokens[i]?.upper === 'IS' || tokens[i]?.upper === 'ARE') i++;
      if (level === 88) {
        while (i < end && tokens[i].kind !== 'period' && !startsEntry(tokens, i)) {
          const from = readLiteral(tokens, i);
          if (!from) {
            report(tokens[i], 'error', `invalid condition value '${tokens[i].text}'`);
            i++;
            continue;
          }
          i = from.next;
          if (tokens[i]?.upper === 'THRU' || tokens[i]?.upper === 'THROUGH') {
            const thru = readLiteral(tokens, i + 1);
            if (thru) {
              conditionValues.push({ from: from.literal, thru: thru.literal });
              i = thru.next;
              continue;
            }
            report(tokens[i], 'error', 'THRU without an upper bound');
            i++;
          }
          conditionValues.push({ from: from.literal });
        }
        continue;
      }
      const lit = readLiteral(tokens, i);
      if (!lit) {
        report(tokens[i] ?? t, 'error', `invalid VALUE '${tokens[i]?.text ?? ''}'`);
        i++;
        continue;
      }
      item.value = lit.literal;
      i = lit.next;
      continue;
    }
    if (u === 'OCCURS') {
      const a = entryAt(tokens, i + 1);
      if (a?.kind !== 'number') {
        report(t, 'error', 'OCCURS without a count');
        i++;
        continue;
      }
      const min = Number(a.text);
      let max = min;
      i += 2;
      if (tokens[i]?.upper === 'TO' && tokens[i + 1]?.kind === 'number') {
        max = Number(tokens[i + 1].text);
        i += 2;
      }
      if (tokens[i]?.upper === 'TIMES') i++;
      const occurs: NonNullable<DataItem['occurs']> = { min, max, indexedBy: [], keys: [] };
      if (max < min) {
        report(a, 'error', `OCCURS ${min} TO ${max}: upper bound below lower bound`);
        occurs.max = min;
      }
      while (i < end && tokens[i].kind !== 'period') {
        const w = tokens[i].upper;
        if (w === 'DEPENDING') {
          i++;
          if (tokens[i]?.upper === 'ON') i++;
          if (tokens[i]) occurs.dependingOn = tokens[i].upper;
          i++;
        } else if (w === 'ASCENDING' || w === 'DESCENDING') {
          const order = w === 'ASCENDING' ? 'ascending' : 'descending';
          i++;
          if (tokens[i]?.upper === 'KEY') i++;
          if (tokens[i]?.upper === 'IS') i++;
          while (tokens[i]?.kind === 'word' && !CLAUSE_WORDS.has(tokens[i].upper)) occurs.keys.push({ order, name: tokens[i++].upper });
        } else if (w === 'INDEXED') {
          i++;
          if (tokens[i]?.upper === 'BY') i++;
          while (tokens[i]?.kind === 'word' && !CLAUSE_WORDS.has(tokens[i].upper)) occurs.indexedBy.push(tokens[i++].upper);
        } else break;
      }
      item.occurs = occurs;
      if (level === 1 || level === 77) report(t, 'error', `OCCURS is not allowed at level ${level}`);
      continue;
    }
    if (u === 'REDEFINES') {
      item.redefines = tokens[i + 1]?.upper;
      i += 2;
      continue;
    }
    if (u === 'RENAMES') {
      const from = tokens[i + 1]?.upper ?? '';
      i += 2;
      let thru: string | undefined;
      if (tokens[i]?.upper === 'THRU' || tokens[i]?.upper === 'THROUGH') {
        thru = tokens[i + 1]?.upper;
        i += 2;
      }
      item.renames = thru ? { from, thru } : { from };
      continue;
    }
    if (u === 'SIGN' || u === 'LEADING' || u === 'TRAILING') {
      i++;
      if (tokens[i - 1].upper === 'SIGN' && tokens[i]?.upper === 'IS') i++;
      if (tokens[i]?.upper === 'LEADING') {
        item.signLeading = true;
        i++;
      } else if (tokens[i]?.upper === 'TRAILING') i++;
      else if (u === 'LEADING') item.signLeading = true;
      if (tokens[i]?.upper === 'SEPARATE') {
        item.signSeparate = true;
        i++;
        if (tokens[i]?.upper === 'CHARACTER') i++;
      }
      continue;
    }
    if (u === 'JUSTIFIED' || u === 'JUST') {
      item.justified = true;
      i++;
      if (tokens[i]?.upper === 'RIGHT') i++;
      continue;
    }
    if (u === 'BLANK') {
      item.blankWhenZero = true;
      i++;
      if (tokens[i]?.upper === 'WHEN') i++;
      if (['ZERO', 'ZEROS', 'ZEROES'].includes(tokens[i]?.upper ?? '')) i++;
      continue;
    }
    if (u === 'SYNC' || u === 'SYNCHRONIZED') {
      i++;
      if (tokens[i]?.upper === 'LEFT' || tokens[i]?.upper === 'RIGHT') i++;
      continue;
    }
    if (u === 'EXTERNAL' || u === 'GLOBAL') {
      if (u === 'EXTERNAL') item.external = true;
      else item.global = true;
      i++;
      continue;
    }
    if (u === 'IS') {
      i++;
      continue;
    }
    report(t, 'error', `unexpected '${t.text}' in data description of ${name}`);
    i++;
  }
  if (i >= end || tokens[i].kind !== 'period') {
    report(tokens[Math.min(i, end) - 1] ?? levelTok, 'error', `data description of ${name} not terminated by a period`);
  }
  return finish(i + 1);

  function finish(next: number): ParsedEntry {
    if (item.pic) {
      const res = analyzePic(item.pic, item.signSeparate);
      if (res.error) report(levelTok, 'error', res.error);
      else item.picInfo = res.info;
      if (!usageSet && res.info?.category === 'national') item.usage = 'NATIONAL';
    }
    return { item, conditionValues, next };
  }
}

function checkItem(item: DataItem, diagnostics: Diagnostic[]): void {
  const noPicUsages: DataItem['usage'][] = ['COMP-1', 'COMP-2', 'INDEX', 'POINTER'];
  const children = item.children.filter((c) => c.level !== 66);
  if (children.length > 0 && item.pic) {
    diagnostics.push({ line: item.line, column: COLUMNS.get(item) ?? 1, severity: 'error', message: `group item ${item.name} cannot have a PICTURE` });
  }
  if (children.length === 0 && !item.pic && !noPicUsages.includes(item.usage) && item.level !== 66 && !item.renames) {
    diagnostics.push({ line: item.line, column: COLUMNS.get(item) ?? 1, severity: 'warning', message: `elementary item ${item.name} has no PICTURE` });
  }
  for (const c of children) checkItem(c, diagnostics);
}
