/** Builds a fixed-format program: sequence area blank, indicator column 7, text from column 8. */
export function fixed(lines: string[]): string {
  return lines.map((l) => (/^([*/-]|D )/.test(l) ? `      ${l}` : `       ${l}`)).join('\n') + '\n';
}

export function program(data: string[], procedure: string[], extra: { env?: string[]; id?: string } = {}): string {
  return fixed([
    'IDENTIFICATION DIVISION.',
    `PROGRAM-ID. ${extra.id ?? 'TESTPGM'}.`,
    ...(extra.env ? ['ENVIRONMENT DIVISION.', ...extra.env] : []),
    'DATA DIVISION.',
    'WORKING-STORAGE SECTION.',
    ...data,
    'PROCEDURE DIVISION.',
    ...procedure,
  ]);
}
