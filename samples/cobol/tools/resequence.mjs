#!/usr/bin/env node
// Renumbers the sequence area (columns 1-6) of fixed-format sources and checks that no program text passes
// column 72. Usage: node samples/cobol/tools/resequence.mjs FILE.cbl [...]  (step 100, like ISPF's RENUM).
import { readFileSync, writeFileSync } from 'node:fs';

for (const file of process.argv.slice(2)) {
  const lines = readFileSync(file, 'utf8').replace(/\n$/, '').split('\n');
  const out = lines.map((line, i) => {
    if (line.slice(72).trim() === '' && line.length > 72) line = line.slice(0, 72);
    if (line.length > 72) throw new Error(`${file}:${i + 1}: text beyond column 72`);
    const body = line.length > 6 ? line.slice(6) : '';
    return (String((i + 1) * 100).padStart(6, '0') + body).trimEnd();
  });
  writeFileSync(file, out.join('\n') + '\n');
  console.log(`${file}: ${out.length} lines renumbered`);
}
