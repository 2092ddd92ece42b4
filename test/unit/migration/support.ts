import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { CORPUS_DIR } from '../cobol/corpus';
import { MemoryWorkspace } from '../../../lambdas/migration/agents/index';

export const javacAvailable = spawnSync('javac', ['-version']).status === 0;

/** The sample corpus as a run's inputs: programs, copybooks/, jcl/ (the generator scripts in tools/ are not inputs). */
export function corpusWorkspace(): MemoryWorkspace {
  const ws = new MemoryWorkspace();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) {
        if (name !== 'tools') walk(path);
      } else ws.objects.set(`inputs/${relative(CORPUS_DIR, path).split('\\').join('/')}`, new Uint8Array(readFileSync(path)));
    }
  };
  walk(CORPUS_DIR);
  return ws;
}
