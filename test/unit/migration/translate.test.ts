import { describe, expect, it } from 'vitest';
import { analyzeCobol } from '../../../lambdas/migration/cobol/index';
import { generateJava } from '../../../lambdas/migration/java/index';
import { estimateTokens } from '../../../lambdas/llm/index';
import { bodyProblem, parseAnswer, translateParagraphs } from '../../../lambdas/migration/agents/index';
import { fixed, program } from '../cobol/fixtures';
import { ScriptedProvider } from './fakes';

const SOURCE = program(
  ['01 WS-A PIC 9(4).', '01 WS-B PIC 9(4).', '01 WS-NAME PIC X(10).'],
  [
    'MAIN-PARA.',
    '    PERFORM FIRST-PARA',
    '    PERFORM SECOND-PARA',
    '    PERFORM THIRD-PARA',
    '    GOBACK.',
    'FIRST-PARA.',
    '    ADD 1 TO WS-A.',
    'SECOND-PARA.',
    '    MOVE WS-A TO WS-B.',
    'THIRD-PARA.',
    '    MOVE "X" TO WS-NAME.',
  ],
);

function setup(source = SOURCE) {
  const analysis = analyzeCobol(source, { fileName: 'TESTPGM.cbl' });
  const gen = generateJava(analysis, { javaPackage: 'com.example.t' });
  const main = gen.files.find((f) => f.path.endsWith('/Testpgm.java'))!;
  return { analysis, main, records: gen.files.filter((f) => f !== main), source };
}

const input = (s: ReturnType<typeof setup>) => ({ programName: 'TESTPGM', analysis: s.analysis, main: s.main, records: s.records, source: s.source });

describe('Function: translateParagraphs', () => {
  it('should apply bodies that fit and keep the deterministic body where the answer does not fit', async () => {
    const s = setup();
    const llm = new ScriptedProvider((_req, reference) => {
      const blocks = parseAnswer(reference!);
      const out: string[] = [];
      for (const [name, body] of blocks) {
        if (name === 'firstPara') out.push(`// BEGIN ${name}`, '// improved by the model', ...body, `// END ${name}`);
        else if (name === 'secondPara') out.push(`// BEGIN ${name}`, 'if (wsA > 0) {', `// END ${name}`);
        // thirdPara is left out of the answer
        else if (name !== 'thirdPara') out.push(`// BEGIN ${name}`, ...body, `// END ${name}`);
      }
      return '```java\n' + out.join('\n') + '\n```';
    });
    const r = await translateParagraphs(llm, input(s));
    expect(r.content).toContain('        // improved by the model\n');
    expect(r.stats).toMatchObject({ methods: 4, chunks: 1, translated: 2, changed: 1, fallbacks: 2, tooLarge: 0 });
    expect(r.stats.fallbackReasons).toEqual([
      { method: 'secondPara', reason: 'unbalanced braces' },
      { method: 'thirdPara', reason: 'method missing from the answer' },
    ]);
    // Fallbacks keep the generator's text exactly.
    const second = (c: string) => c.slice(c.indexOf('void secondPara()'), c.indexOf('void thirdPara()'));
    expect(second(r.content)).toBe(second(s.main.content));
    expect(r.usage).toMatchObject({ calls: 1, reasoningTokens: 3, costUsd: 0.001 });
    expect(llm.requests[0].temperature).toBe(0);
    expect(llm.requests[0].messages[0].content).toContain('MOVE WS-A TO WS-B');
  });

  it('should split a program into prompts that fit a small context and never send a paragraph that cannot fit', async () => {
    const many = Array.from({ length: 30 }, (_, i) => [`PARA-${i}.`, ...Array.from({ length: 4 }, (_, k) => `    ADD ${k + 1} TO WS-A`), '    MOVE WS-A TO WS-B.']).flat();
    const huge = ['HUGE-PARA.', ...Array.from({ length: 400 }, (_, k) => `    ADD ${k} TO WS-A`), '    CONTINUE.'];
    const s = setup(program(['01 WS-A PIC 9(8).', '01 WS-B PIC 9(8).'], ['MAIN-PARA.', '    GOBACK.', ...many, ...huge]));
    const llm = new ScriptedProvider((_req, reference) => reference!, 2_000);
    const progress: number[] = [];
    const r = await translateParagraphs(llm, input(s), { maxOutputTokens: 600, onProgress: (f) => void progress.push(f) });
    expect(r.stats.chunks).toBeGreaterThan(3);
    expect(llm.requests).toHaveLength(r.stats.chunks);
    for (const req of llm.requests) {
      expect(estimateTokens(req.system) + estimateTokens(req.messages[0].content) + req.maxTokens).toBeLessThanOrEqual(2_000);
    }
    expect(r.stats.tooLarge).toBe(1);
    expect(r.stats.fallbackReasons).toEqual([{ method: 'hugePara', reason: 'paragraph larger than the context allows' }]);
    expect(llm.requests.some((q) => q.messages[0].content.includes('HUGE-PARA'))).toBe(false);
    expect(r.content).toBe(s.main.content);
    expect(progress.at(-1)).toBe(1);
  });

  it('should take the complete blocks of an answer cut at the token limit', async () => {
    const s = setup();
    const llm = new ScriptedProvider((_req, reference) => ({ text: reference!.slice(0, reference!.indexOf('// END secondPara') - 3), finishReason: 'length' }));
    const r = await translateParagraphs(llm, input(s));
    expect(r.stats.translated).toBe(2);
    expect(r.stats.fallbackReasons.map((f) => f.reason)).toEqual(['answer cut off at the token limit', 'answer cut off at the token limit']);
    expect(r.content).toBe(s.main.content);
  });
});

describe('Function: translateParagraphs (copied paragraphs)', () => {
  it('should show the copied statements, not the COPY line, for paragraphs from a copybook', async () => {
    const source = program(['01 WS-A PIC 9(4).'], ['MAIN-PARA.', '    PERFORM X-PARA', '    GOBACK.', 'COPY PROCCB.']);
    const analysis = analyzeCobol(source, { fileName: 'TESTPGM.cbl', resolveCopybook: (n) => (n === 'PROCCB' ? fixed(['X-PARA.', '    MOVE 7 TO WS-A.']) : undefined) });
    const gen = generateJava(analysis, { javaPackage: 'com.example.t' });
    const main = gen.files.find((f) => f.path.endsWith('/Testpgm.java'))!;
    const llm = new ScriptedProvider((_req, reference) => reference!);
    await translateParagraphs(llm, { programName: 'TESTPGM', analysis, main, records: [], source });
    const prompt = llm.requests[0].messages[0].content;
    expect(prompt).toContain('*> paragraph X-PARA → method xPara()\n');
    expect(prompt).toMatch(/MOVE 7 TO WS-A/);
  });
});

describe('Function: bodyProblem', () => {
  it('should accept balanced code with braces in literals and comments', () => {
    expect(bodyProblem(['String s = "{(";', "char c = '}';", '// }', '/* ( */', 'if (a) { b(); }'])).toBeUndefined();
  });

  it('should reject unbalanced, empty and structural bodies', () => {
    expect(bodyProblem(['if (a) {'])).toBe('unbalanced braces');
    expect(bodyProblem(['call(a;'])).toBe('unbalanced parentheses');
    expect(bodyProblem(['  '])).toBe('empty body');
    expect(bodyProblem(['class X {}'])).toBe('declares a type');
    expect(bodyProblem(['public void x() {}'])).toBe('declares a method');
    expect(bodyProblem(['String s = "oops;'])).toBe('unterminated literal');
  });
});
