import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';

export interface JavacDiagnostic {
  /** Path relative to the source root (the Java path, `com/example/…/X.java`). */
  path: string;
  line: number;
  severity: 'error' | 'warning';
  message: string;
}

interface CompileResult {
  ok: boolean;
  diagnostics: JavacDiagnostic[];
  durationMs: number;
  /** Raw output when it could not be attributed to files (javac crashed, bad flag). */
  unattributed?: string;
}

export interface Javac {
  version(): Promise<string | undefined>;
  /** Compiles the files (Java path → content) together. */
  compile(files: Map<string, string>, release: number): Promise<CompileResult>;
}

/** `JAVAC`, else `$JAVA_HOME/bin/javac`, else `javac` on PATH. */
function javacCommand(env: Record<string, string | undefined> = process.env): string {
  if (env.JAVAC) return env.JAVAC;
  if (env.JAVA_HOME) return join(env.JAVA_HOME, 'bin', 'javac');
  return 'javac';
}

function run(cmd: string, args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string; missing: boolean }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (error, stdout, stderr) => {
      const e = error as (NodeJS.ErrnoException & { code?: string | number }) | null;
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : e.code === 'ENOENT' ? null : 1) : 0, stdout, stderr, missing: e?.code === 'ENOENT' });
    });
  });
}

/** Splits javac's output into per-file diagnostics (message plus its `symbol:` / `location:` detail). */
export function parseJavacOutput(output: string, root: string): { diagnostics: JavacDiagnostic[]; unattributed: string } {
  const diagnostics: JavacDiagnostic[] = [];
  const rest: string[] = [];
  let current: JavacDiagnostic | undefined;
  for (const line of output.split(/\r?\n/)) {
    const m = /^(.+\.java):(\d+): (error|warning): (.*)$/.exec(line);
    if (m) {
      const abs = m[1];
      const path = (abs.startsWith(root) ? relative(root, abs) : abs).split(sep).join('/');
      current = { path, line: Number(m[2]), severity: m[3] as 'error' | 'warning', message: m[4] };
      diagnostics.push(current);
      continue;
    }
    if (/^\d+ (errors?|warnings?)$/.test(line.trim()) || line.trim() === '' || /^Note: /.test(line)) continue;
    const detail = /^\s+(symbol|location|required|found|reason):\s*(.*)$/.exec(line);
    if (current && detail) current.message += `; ${detail[1]}: ${detail[2]}`;
    else if (!current) rest.push(line);
  }
  return { diagnostics, unattributed: rest.join('\n').trim() };
}

/** The machine's javac, in a temporary directory per compile. */
export function localJavac(opts: { command?: string; timeoutMs?: number } = {}): Javac {
  const cmd = opts.command ?? javacCommand();
  const timeoutMs = opts.timeoutMs ?? 600_000;
  return {
    async version() {
      const r = await run(cmd, ['-version'], 30_000);
      if (r.missing || r.code !== 0) return undefined;
      return (r.stdout || r.stderr).trim();
    },
    async compile(files, release) {
      const started = performance.now();
      const dir = await mkdtemp(join(tmpdir(), 'agentplane-javac-'));
      try {
        const src = join(dir, 'src');
        const paths: string[] = [];
        for (const [path, content] of files) {
          const target = join(src, ...path.split('/'));
          await mkdir(dirname(target), { recursive: true });
          await writeFile(target, content);
          paths.push(target);
        }
        await writeFile(join(dir, 'sources.txt'), paths.map((p) => `"${p.replace(/\\/g, '\\\\')}"`).join('\n'));
        // -J-Xss8m: the generated code of a large program nests deeply enough to overflow javac's default stack.
        const args = ['--release', String(release), '-nowarn', '-encoding', 'UTF-8', '-Xmaxerrs', '100000', '-J-Xss8m', '-d', join(dir, 'classes'), `@${join(dir, 'sources.txt')}`];
        const r = await run(cmd, args, timeoutMs);
        if (r.missing) throw Object.assign(new Error(`javac not found (${cmd})`), { code: 'ENOENT' });
        const { diagnostics, unattributed } = parseJavacOutput(`${r.stdout}\n${r.stderr}`, src);
        const ok = r.code === 0 && !diagnostics.some((d) => d.severity === 'error');
        return { ok, diagnostics, durationMs: Math.round(performance.now() - started), ...(unattributed && !ok ? { unattributed } : {}) };
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
