import { describe, expect, it } from 'vitest';
import { compileWorkflow } from '../../../lambdas/core/workflow/compile';
import { aslToMermaid, workflowToMermaid } from '../../../lambdas/core/workflow/mermaid';
import type { WorkflowDefinition } from '../../../lambdas/core/workflow/schema';

const definition: WorkflowDefinition = {
  id: 'demo',
  parameters: { lang: { type: 'string', default: 'java' } },
  steps: [
    { id: 'analyze', capability: { skill: 'cobol-analysis' }, forEach: 'inputs' },
    { id: 'deps', capability: { skill: 'dependency-mapping' }, dependsOn: ['analyze'] },
    { id: 'gen', capability: { skill: 'java-generation' }, dependsOn: ['analyze'], when: { param: 'lang', equals: 'java' } },
    { id: 'report', capability: { skill: 'report-writing' }, dependsOn: ['gen', 'deps'] },
  ],
};

describe('Function: workflowToMermaid', () => {
  it('should draw one node per step and one edge per dependency, marking fan-outs and conditions', () => {
    // Act
    const mermaid = workflowToMermaid(definition);

    // Assert
    expect(mermaid.split('\n')).toEqual([
      'flowchart TD',
      '  s0[["analyze<br/><small>cobol-analysis<br/>for each item of inputs</small>"]]',
      '  s1["deps<br/><small>dependency-mapping</small>"]',
      '  s2["gen<br/><small>java-generation<br/>when lang = #quot;java#quot;</small>"]',
      '  s3["report<br/><small>report-writing</small>"]',
      '  s0 --> s1',
      '  s0 --> s2',
      '  s2 --> s3',
      '  s1 --> s3',
      '  classDef conditional stroke-dasharray: 5 5',
      '  class s2 conditional',
    ]);
  });
});

describe('Function: aslToMermaid', () => {
  it('should draw every state, with Parallel branches and Map processors as subgraphs', () => {
    // Arrange
    const { asl } = compileWorkflow(definition, { functions: { gate: 'gate', reporter: 'reporter' }, expectedItems: { analyze: 5 } });

    // Act
    const mermaid = aslToMermaid(asl as never);

    // Assert
    expect(mermaid.startsWith('flowchart TD\n')).toBe(true);
    for (const fragment of ['"analyze (Map, inline)"', '"par(deps|gen)"', '"branch 1"', '"gen.when"', '"analyze.item"', '-.->|States.ALL|', '((start))', '((end))']) {
      expect(mermaid).toContain(fragment);
    }
    expect(mermaid).toBe(aslToMermaid(asl as never));
  });
});
