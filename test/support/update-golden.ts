/**
 * `npm run golden:update`: rewrites the files tests compare against, after an intended change, for review in the
 * diff. Tests only ever read them: a missing or stale golden file fails its test.
 * - test/unit/cobol/golden/<program>.json: the analysis of each sample program (samples/cobol);
 * - docs/events.schema.json: the JSON Schema of the event envelope and payloads.
 */
import { writeFileSync } from 'node:fs';
import { analyzeCobol } from '../../lambdas/migration/cobol/index';
import { eventsJsonSchema } from '../../lambdas/core/events/schemas';
import { goldenAnalysis, goldenFileOf, loadCorpus } from '../unit/cobol/corpus';

const { programs, resolveCopybook } = loadCorpus();
for (const program of programs) {
  writeFileSync(goldenFileOf(program.fileName), goldenAnalysis(analyzeCobol(program.text, { fileName: program.fileName, resolveCopybook })));
}
writeFileSync(new URL('../../docs/events.schema.json', import.meta.url), `${JSON.stringify(eventsJsonSchema(), null, 2)}\n`);
process.stdout.write(`updated ${programs.length} golden analyses and docs/events.schema.json\n`);
