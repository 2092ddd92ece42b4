import type { CobolAnalysis } from './types';

type DependencyNodeKind = 'program' | 'copybook' | 'file' | 'external';

interface DependencyNode {
  id: string;
  kind: DependencyNodeKind;
  label: string;
  /** Programs: the analyzed file. */
  fileName?: string;
}

interface DependencyEdge {
  from: string;
  to: string;
  kind: 'calls' | 'copybook' | 'file';
  /** calls: through an identifier (resolved from its VALUE/MOVE candidates); files: the OPEN modes. */
  dynamic?: boolean;
  via?: string;
  modes?: string[];
}

export interface DependencyGraph {
  nodes: DependencyNode[];
  edges: DependencyEdge[];
  /** Programs calling each other in a loop (strongly connected components), each sorted. */
  cycles: string[][];
  /** Programs no analyzed program calls. */
  entryPoints: string[];
  /** Callees before callers; members of a cycle are adjacent. */
  migrationOrder: string[];
  /** The same order grouped into waves that can be migrated in parallel. */
  waves: string[][];
  /** Dynamic calls whose target could not be resolved to a literal. */
  unresolvedCalls: Array<{ program: string; identifier: string; line: number }>;
  mermaid: string;
}

export function programName(a: CobolAnalysis): string {
  return a.programId ?? (a.fileName.split('/').pop() ?? a.fileName).replace(/\.[^.]+$/, '').toUpperCase();
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function nodeId(kind: DependencyNodeKind, name: string): string {
  const prefix = { program: 'program', copybook: 'copybook', file: 'file', external: 'external' }[kind];
  return `${prefix}:${name}`;
}

/** A lookup of a key the algorithm recorded before: a miss is a bug in it, not a problem of the input. */
function recorded<K, V>(map: Map<K, V>, key: K): V {
  const value = map.get(key);
  if (value === undefined) throw new Error(`internal error: ${String(key)} was never recorded`);
  return value;
}

/** Tarjan's strongly connected components over the call graph (iteration order fixed for determinism). */
function stronglyConnected(names: string[], callees: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of callees.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(recorded(low, v), recorded(low, w)));
      } else if (onStack.has(w)) low.set(v, Math.min(recorded(low, v), recorded(idx, w)));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        const top = stack.pop();
        if (top === undefined) throw new Error(`internal error: ${v} is not on the component stack`);
        w = top;
        onStack.delete(w);
        comp.push(w);
      } while (w !== v);
      out.push(comp.sort(cmp));
    }
  };
  for (const n of names) if (!idx.has(n)) visit(n);
  return out;
}

function mermaidId(id: string): string {
  return id.replace(/[^A-Za-z0-9]/g, '_');
}

function renderMermaid(nodes: DependencyNode[], edges: DependencyEdge[]): string {
  const lines = ['graph LR'];
  for (const n of nodes) {
    const id = mermaidId(n.id);
    const label = n.label.replace(/"/g, "'");
    if (n.kind === 'program') lines.push(`  ${id}["${label}"]`);
    else if (n.kind === 'copybook') lines.push(`  ${id}[("${label}")]`);
    else if (n.kind === 'file') lines.push(`  ${id}[/"${label}"/]`);
    else lines.push(`  ${id}{{"${label}"}}`);
  }
  for (const e of edges) {
    const from = mermaidId(e.from);
    const to = mermaidId(e.to);
    if (e.kind === 'calls') lines.push(e.dynamic ? `  ${from} -.->|dynamic| ${to}` : e.via && e.via !== 'CALL' ? `  ${from} -->|${e.via}| ${to}` : `  ${from} --> ${to}`);
    else if (e.kind === 'copybook') lines.push(`  ${from} -.- ${to}`);
    else lines.push(`  ${from} ==>|${(e.modes ?? []).join(', ') || 'declared'}| ${to}`);
  }
  lines.push('  classDef program fill:#dbeafe,stroke:#1d4ed8');
  lines.push('  classDef copybook fill:#fef9c3,stroke:#a16207');
  lines.push('  classDef file fill:#dcfce7,stroke:#15803d');
  lines.push('  classDef external fill:#fee2e2,stroke:#b91c1c');
  for (const kind of ['program', 'copybook', 'file', 'external'] as const) {
    const ids = nodes.filter((n) => n.kind === kind).map((n) => mermaidId(n.id));
    if (ids.length > 0) lines.push(`  class ${ids.join(',')} ${kind}`);
  }
  return lines.join('\n') + '\n';
}

/** Cross-program graph: calls, copybooks and files, with cycles, entry points and a migration order. */
export function mapDependencies(analyses: CobolAnalysis[]): DependencyGraph {
  const programs = new Map<string, CobolAnalysis>();
  for (const a of [...analyses].sort((x, y) => cmp(programName(x), programName(y)) || cmp(x.fileName, y.fileName))) {
    if (!programs.has(programName(a))) programs.set(programName(a), a);
  }
  const nodes = new Map<string, DependencyNode>();
  const edges = new Map<string, DependencyEdge>();
  const unresolvedCalls: DependencyGraph['unresolvedCalls'] = [];
  const callees = new Map<string, Set<string>>();

  for (const [name, a] of programs) nodes.set(nodeId('program', name), { id: nodeId('program', name), kind: 'program', label: name, fileName: a.fileName });

  const addEdge = (e: DependencyEdge): void => {
    const key = `${e.kind}|${e.from}|${e.to}`;
    const existing = edges.get(key);
    if (!existing) {
      edges.set(key, e);
      return;
    }
    // The same pair through several statements: static wins over dynamic, modes are merged.
    if (existing.dynamic && !e.dynamic) existing.dynamic = false;
    if (e.modes) existing.modes = [...new Set([...(existing.modes ?? []), ...e.modes])].sort(cmp);
  };

  for (const [name, a] of programs) {
    const from = nodeId('program', name);
    for (const c of a.calls) {
      const targets = c.dynamic ? c.candidates : [c.target];
      if (c.dynamic && targets.length === 0) unresolvedCalls.push({ program: name, identifier: c.target, line: c.line });
      for (const t of targets) {
        const internal = programs.has(t);
        const to = nodeId(internal ? 'program' : 'external', t);
        if (!internal && !nodes.has(to)) nodes.set(to, { id: to, kind: 'external', label: t });
        addEdge({ from, to, kind: 'calls', ...(c.dynamic ? { dynamic: true } : {}), ...(c.via !== 'CALL' ? { via: c.via } : {}) });
        if (internal) {
          const set = callees.get(name) ?? new Set<string>();
          set.add(t);
          callees.set(name, set);
        }
      }
    }
    const copybooks = new Set<string>();
    const collect = (names: string[]): void => { names.forEach((n) => copybooks.add(n)); };
    for (const u of a.copybooks) {
      if (u.resolved) copybooks.add(u.name);
      collect(u.nested);
    }
    for (const cb of [...copybooks].sort(cmp)) {
      const to = nodeId('copybook', cb);
      if (!nodes.has(to)) nodes.set(to, { id: to, kind: 'copybook', label: cb });
      addEdge({ from, to, kind: 'copybook' });
    }
    for (const f of a.files) {
      const label = f.assignTo ?? f.name;
      const to = nodeId('file', label);
      if (!nodes.has(to)) nodes.set(to, { id: to, kind: 'file', label });
      addEdge({ from, to, kind: 'file', modes: [...f.openModes] });
    }
  }

  const names = [...programs.keys()];
  const calleeLists = new Map([...callees].map(([k, v]) => [k, [...v].sort(cmp)]));
  const sccs = stronglyConnected(names, calleeLists);
  const cycles = sccs.filter((c) => c.length > 1 || (calleeLists.get(c[0]) ?? []).includes(c[0])).sort((a, b) => cmp(a[0], b[0]));

  const called = new Set([...callees.entries()].flatMap(([caller, set]) => [...set].filter((t) => t !== caller)));
  const entryPoints = names.filter((n) => !called.has(n));

  // Waves over the condensed graph: a component is ready when every component it calls is done.
  const compOf = new Map<string, number>();
  sccs.forEach((c, i) => { c.forEach((n) => compOf.set(n, i)); });
  const deps = sccs.map((c) => new Set(c.flatMap((n) => (calleeLists.get(n) ?? []).map((t) => recorded(compOf, t))).filter((k) => !c.includes(sccs[k][0]))));
  const done = new Set<number>();
  const waves: string[][] = [];
  while (done.size < sccs.length) {
    const ready = sccs.map((_, i) => i).filter((i) => !done.has(i) && [...deps[i]].every((d) => done.has(d)));
    if (ready.length === 0) break;
    ready.sort((x, y) => cmp(sccs[x][0], sccs[y][0]));
    waves.push(ready.flatMap((i) => sccs[i]));
    ready.forEach((i) => done.add(i));
  }

  const kindRank: Record<DependencyNodeKind, number> = { program: 0, external: 1, copybook: 2, file: 3 };
  const nodeList = [...nodes.values()].sort((a, b) => kindRank[a.kind] - kindRank[b.kind] || cmp(a.label, b.label));
  const edgeList = [...edges.values()].sort((a, b) => cmp(a.kind, b.kind) || cmp(a.from, b.from) || cmp(a.to, b.to));
  return {
    nodes: nodeList,
    edges: edgeList,
    cycles,
    entryPoints,
    migrationOrder: waves.flat(),
    waves,
    unresolvedCalls,
    mermaid: renderMermaid(nodeList, edgeList),
  };
}
