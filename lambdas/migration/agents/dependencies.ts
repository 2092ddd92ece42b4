import { mapDependencies, type DependencyGraph } from '../cobol/dependencies';
import { loadAnalyses } from './analysis';
import { LAYOUT } from './layout';
import { putJson, type MigrationWorkspace } from './workspace';

export interface DependencyResult {
  outputKey: string;
  mermaidKey: string;
  graph: DependencyGraph;
}

/**
 * dependency-mapping: the cross-program graph over every stored analysis → reports/dependencies.json and
 * reports/dependencies.mmd. Programs whose analysis failed are absent, so calls to them show as external.
 */
export async function runDependencyMapping(ws: MigrationWorkspace): Promise<DependencyResult> {
  const analyses = await loadAnalyses(ws);
  const graph = mapDependencies(analyses);
  await ws.put(LAYOUT.dependenciesMermaid, graph.mermaid);
  const outputKey = await putJson(ws, LAYOUT.dependenciesJson, graph);
  return { outputKey, mermaidKey: LAYOUT.dependenciesMermaid, graph };
}
