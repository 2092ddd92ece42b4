/**
 * `list[i]`, typed as what it is at run time: undefined past either end. The project compiles without
 * noUncheckedIndexedAccess, so a plain index read claims to always find an element and a check for a
 * missing one looks dead to the type checker.
 */
export function entryAt<T>(list: readonly T[], i: number): T | undefined {
  return list[i];
}
