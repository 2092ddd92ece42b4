import { describe, expect, it } from 'vitest';
import {
  JavacUnavailableError,
  localJavac,
  MemoryWorkspace,
  parseJavacOutput,
  putJson,
  runValidation,
  type Javac,
} from '../../../lambdas/migration/agents/index';
import { ScriptedProvider } from './fakes';
import { javacAvailable } from './support';

const GOOD = 'package com.x.a;\n\npublic class A {\n    int f() { return 1; }\n}\n';
const BAD = 'package com.x.a;\n\npublic class B {\n    int f() { return missing; }\n}\n';
const FIXED = 'package com.x.a;\n\npublic class B {\n    int f() { return 0; }\n}\n';

function workspace() {
  const ws = new MemoryWorkspace({ 'outputs/java/com/x/a/A.java': GOOD, 'outputs/java/com/x/a/B.java': BAD });
  void putJson(ws, 'outputs/generate/A.json', { program: 'A', files: [{ key: 'outputs/java/com/x/a/A.java', path: 'com/x/a/A.java' }, { key: 'outputs/java/com/x/a/B.java', path: 'com/x/a/B.java' }], usage: {} });
  return ws;
}

/** Reports an error in every file that still references `missing`. */
function fakeJavac(): Javac & { compiles: number } {
  const j = {
    compiles: 0,
    version: async () => 'javac 17.0.99',
    async compile(files: Map<string, string>) {
      j.compiles++;
      const diagnostics = [...files].filter(([, c]) => c.includes('missing')).map(([path]) => ({ path, line: 4, severity: 'error' as const, message: 'cannot find symbol; symbol: variable missing' }));
      return { ok: diagnostics.length === 0, diagnostics, durationMs: 1 };
    },
  };
  return j;
}

describe('Function: runValidation', () => {
  it('should record per-file errors without an LLM', async () => {
    const ws = workspace();
    const { report } = await runValidation(ws, { javac: fakeJavac() });
    expect(report.status).toBe('failed');
    expect(report.totals).toEqual({ files: 2, compiled: 1, failed: 1, errors: 1 });
    expect(report.files.find((f) => f.path === 'com/x/a/B.java')).toMatchObject({ program: 'A', compiled: false, errors: [{ line: 4, message: 'cannot find symbol; symbol: variable missing' }], repaired: false });
    expect((JSON.parse(ws.text('reports/validation.json')!) as { status: string }).status).toBe('failed');
  });

  it('should feed compile errors to the LLM, recompile, and write the repaired file back', async () => {
    const ws = workspace();
    const javac = fakeJavac();
    const llm = new ScriptedProvider((req, reference) => {
      expect(req.messages[0].content).toContain('line 4: cannot find symbol');
      return '```java\n' + reference!.replace('return missing;', 'return 0;') + '\n```';
    });
    const progress: number[] = [];
    const { report } = await runValidation(ws, { javac, llm, repairAttempts: 2, onProgress: (f) => void progress.push(f) });
    expect(report.status).toBe('passed');
    expect(report.attempts.map((a) => ({ attempt: a.attempt, errors: a.errors, repaired: a.repaired }))).toEqual([
      { attempt: 0, errors: 1, repaired: [] },
      { attempt: 1, errors: 0, repaired: ['com/x/a/B.java'] },
    ]);
    expect(javac.compiles).toBe(2);
    expect(ws.text('outputs/java/com/x/a/B.java')).toBe(FIXED);
    expect(report.files.find((f) => f.path === 'com/x/a/B.java')?.repaired).toBe(true);
    expect(report.usage.calls).toBe(1);
    expect(report.usage.costUsd).toBe(0.001);
    expect(progress.at(-1)).toBe(1);
  });

  it('should stop after N attempts, and refuse repairs that change the compilation unit', async () => {
    const ws = workspace();
    let calls = 0;
    const llm = new ScriptedProvider((_req, reference) => (++calls === 1 ? reference!.replace('int f()', 'long f()') : reference!.replace('package com.x.a;', 'package other;')));
    const { report } = await runValidation(ws, { javac: fakeJavac(), llm, repairAttempts: 3 });
    expect(report.status).toBe('failed');
    // attempt 1 changed the file (still failing); attempt 2's answer moved it to another package: refused, and
    // with nothing left to try the loop ends before its third round.
    expect(report.attempts.map((a) => a.repaired)).toEqual([[], ['com/x/a/B.java'], []]);
    expect(calls).toBe(2);
    expect(ws.text('outputs/java/com/x/a/B.java')).toContain('package com.x.a;\n\npublic class B {\n    long f()');

    let more = 0;
    const always = new ScriptedProvider((_req, reference) => reference!.replace('return', `return /* ${++more} */`));
    const limited = await runValidation(workspace(), { javac: fakeJavac(), llm: always, repairAttempts: 1 });
    expect(limited.report.attempts).toHaveLength(2);
    expect(more).toBe(1);
  });

  it('should fail without javac unless told to report it', async () => {
    const none: Javac = { version: async () => undefined, compile: async () => ({ ok: false, diagnostics: [], durationMs: 0 }) };
    await expect(runValidation(workspace(), { javac: none })).rejects.toBeInstanceOf(JavacUnavailableError);
    const { report } = await runValidation(workspace(), { javac: none, requireJavac: false });
    expect((report).status).toBe('unavailable');
  });
});

describe('Function: parseJavacOutput', () => {
  it('should attribute errors to files with their symbol detail', () => {
    const out = [
      '/tmp/x/src/com/a/B.java:4: error: cannot find symbol',
      '        return missing;',
      '               ^',
      '  symbol:   variable missing',
      '  location: class B',
      '/tmp/x/src/com/a/C.java:9: error: \';\' expected',
      '2 errors',
    ].join('\n');
    const { diagnostics, unattributed } = parseJavacOutput(out, '/tmp/x/src');
    expect(diagnostics).toEqual([
      { path: 'com/a/B.java', line: 4, severity: 'error', message: 'cannot find symbol; symbol: variable missing; location: class B' },
      { path: 'com/a/C.java', line: 9, severity: 'error', message: "';' expected" },
    ]);
    expect(unattributed).toBe('');
  });
});

describe('Function: localJavac', () => {
  it.skipIf(!javacAvailable)('should compile with the real javac and attribute its errors to files', async () => {
    const javac = localJavac();
    expect(await javac.version()).toMatch(/^javac \d+/);
    const r = await javac.compile(new Map([['com/x/a/A.java', GOOD], ['com/x/a/B.java', BAD]]), 17);
    expect(r.ok).toBe(false);
    expect(r.diagnostics).toEqual([{ path: 'com/x/a/B.java', line: 4, severity: 'error', message: 'cannot find symbol; symbol: variable missing; location: class B' }]);
  });

  it('should report a missing javac as unavailable', async () => {
    expect(await localJavac({ command: '/nonexistent/javac' }).version()).toBeUndefined();
  });
});
