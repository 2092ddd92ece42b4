import type { PicInfo, Usage } from './types';

export interface PicResult {
  info?: PicInfo;
  error?: string;
}

/** Expands repetition factors: S9(3)V9(2) → S999V99. */
export function expandPic(pic: string): string | undefined {
  let out = '';
  const upper = pic.toUpperCase();
  for (let i = 0; i < upper.length; i++) {
    const ch = upper[i];
    if (ch === '(') {
      const close = upper.indexOf(')', i);
      if (close < 0 || out.length === 0) return undefined;
      const n = Number(upper.slice(i + 1, close));
      if (!Number.isInteger(n) || n <= 0 || n > 1_000_000) return undefined;
      out += out[out.length - 1].repeat(n - 1);
      i = close;
      continue;
    }
    if (ch === ')') return undefined;
    out += ch;
  }
  return out;
}

const VALID = /^[9AXSVPZ*BN0G/+\-.,$CRDBE]+$/;

export function analyzePic(pic: string, signSeparate = false): PicResult {
  const expanded = expandPic(pic);
  if (expanded === undefined || expanded.length === 0) return { error: `invalid PICTURE string '${pic}'` };
  const noCrDb = expanded.replace(/CR|DB/g, '');
  if (!VALID.test(expanded) || /[CRDE]/.test(noCrDb.replace(/E(?=[+-])/, ''))) {
    return { error: `invalid PICTURE string '${pic}'` };
  }
  const has = (re: RegExp): boolean => re.test(noCrDb);
  if (has(/N/)) return { info: { category: 'national', length: count(noCrDb, 'N'), digits: 0, scale: 0, signed: false } };
  if (has(/G/)) return { info: { category: 'dbcs', length: count(noCrDb, 'G') * 2, digits: 0, scale: 0, signed: false } };
  const signed = noCrDb.startsWith('S');
  const body = signed ? noCrDb.slice(1) : noCrDb;
  if (body.includes('S')) return { error: `S must be the first symbol of PICTURE '${pic}'` };
  if (/^[9VP]+$/.test(body)) {
    if (count(body, 'V') > 1) return { error: `more than one V in PICTURE '${pic}'` };
    const [intPart, fracPart = ''] = body.split('V');
    const digits = count(body, '9') + count(body, 'P');
    let scale = count(fracPart, '9') + count(fracPart, 'P');
    // Trailing P in the integer part scales the value up (PIC 99PPP holds thousands).
    const trailingP = fracPart === '' ? /P+$/.exec(intPart) : null;
    if (trailingP) scale = -trailingP[0].length;
    if (digits > 38) return { error: `more than 38 digits in PICTURE '${pic}'` };
    const length = count(body, '9') + (signed && signSeparate ? 1 : 0);
    return { info: { category: 'numeric', length, digits, scale, signed } };
  }
  if (/^A+$/.test(body)) return { info: { category: 'alphabetic', length: body.length, digits: 0, scale: 0, signed: false } };
  if (/^[AX9]+$/.test(body)) return { info: { category: 'alphanumeric', length: body.length, digits: 0, scale: 0, signed: false } };
  if (/^[AX9B0/]+$/.test(body)) return { info: { category: 'alphanumeric-edited', length: body.length, digits: 0, scale: 0, signed: false } };
  // Numeric-edited: every symbol is one position except CR/DB (two); V takes none.
  const positions = expanded.replace(/CR|DB/g, '##').replace(/V/g, '').length;
  const dot = body.indexOf('.');
  const digitSymbols = /[9Z*]/g;
  const intSide = dot >= 0 ? body.slice(0, dot) : body.split('V')[0];
  const fracSide = dot >= 0 ? body.slice(dot + 1) : (body.split('V')[1] ?? '');
  const floating = (s: string): number => {
    const m = /^([+\-$])\1+/.exec(s);
    return m ? m[0].length - 1 : 0;
  };
  const digits = (intSide.match(digitSymbols)?.length ?? 0) + floating(intSide) + (fracSide.match(/[9Z*]/g)?.length ?? 0);
  const scale = fracSide.match(/[9Z*]/g)?.length ?? 0;
  return {
    info: {
      category: 'numeric-edited',
      length: positions,
      digits,
      scale,
      signed: /[+-]|CR|DB/.test(expanded),
    },
  };
}

function count(s: string, ch: string): number {
  let n = 0;
  for (const c of s) if (c === ch) n++;
  return n;
}

/** Storage bytes of one elementary item, or undefined when it depends on the platform. */
export function storageSize(usage: Usage, info: PicInfo | undefined): number | undefined {
  switch (usage) {
    case 'COMP-1':
      return 4;
    case 'COMP-2':
      return 8;
    case 'INDEX':
    case 'POINTER':
      return 4;
    case 'COMP-3':
    case 'PACKED-DECIMAL':
      return info ? Math.floor(info.digits / 2) + 1 : undefined;
    case 'BINARY':
    case 'COMP':
    case 'COMP-4':
    case 'COMP-5':
      if (!info) return undefined;
      return info.digits <= 4 ? 2 : info.digits <= 9 ? 4 : 8;
    case 'NATIONAL':
      return info ? info.length * (info.category === 'national' ? 2 : 1) : undefined;
    case 'DISPLAY':
      if (!info) return undefined;
      return info.category === 'national' ? info.length * 2 : info.length;
  }
}
