import type { Token } from './tokenizer';
import type { Literal } from './types';
import { entryAt } from './lists';

const FIGURATIVES: Record<string, string> = {
  ZERO: 'ZERO',
  ZEROS: 'ZERO',
  ZEROES: 'ZERO',
  SPACE: 'SPACE',
  SPACES: 'SPACE',
  'HIGH-VALUE': 'HIGH-VALUE',
  'HIGH-VALUES': 'HIGH-VALUE',
  'LOW-VALUE': 'LOW-VALUE',
  'LOW-VALUES': 'LOW-VALUE',
  QUOTE: 'QUOTE',
  QUOTES: 'QUOTE',
  NULL: 'NULL',
  NULLS: 'NULL',
};

export function figurative(upper: string): string | undefined {
  return FIGURATIVES[upper];
}

/** Reads one literal (string, number, figurative, ALL literal, 'a' & 'b'); returns the index after it. */
export function readLiteral(tokens: Token[], i: number): { literal: Literal; next: number } | undefined {
  const t = entryAt(tokens, i);
  if (!t) return undefined;
  if (t.kind === 'word' && t.upper === 'ALL') {
    const inner = readLiteral(tokens, i + 1);
    if (!inner) return undefined;
    return { literal: { ...inner.literal, all: true }, next: inner.next };
  }
  if (t.kind === 'number') return { literal: { kind: 'number', value: t.text }, next: i + 1 };
  if (t.kind === 'word') {
    const fig = figurative(t.upper);
    return fig ? { literal: { kind: 'figurative', value: fig }, next: i + 1 } : undefined;
  }
  if (t.kind === 'string') {
    let value = t.upper;
    let next = i + 1;
    // Concatenated literals: 'abc' & 'def'.
    while (tokens[next]?.text === '&' && tokens[next + 1]?.kind === 'string') {
      value += tokens[next + 1].upper;
      next += 2;
    }
    if (t.prefix === 'X') return { literal: { kind: 'hex', value }, next };
    return { literal: { kind: 'string', value }, next };
  }
  return undefined;
}
