import type { WorkflowDefinition } from '../../../../lambdas/core/workflow/schema';

/** The workflow example of CONTRACT.md, a fresh copy per call so tests can change it freely. */
export function contractExample(): WorkflowDefinition {
  return {
    id: 'cobol-to-java',
    description: 'Analyse COBOL, map dependencies, generate Java, write a report',
    parameters: {
      targetLanguage: { type: 'string', enum: ['java', 'kotlin'], default: 'java' },
      javaPackage: { type: 'string', default: 'com.example.legacy' },
    },
    steps: [
      {
        id: 'analyze',
        capability: { skill: 'cobol-analysis', input: 'cobol-source', output: 'cobol-analysis' },
        forEach: 'inputs',
        maxConcurrency: 20,
        batchSize: 1,
        retry: { maxAttempts: 3, intervalSeconds: 2, backoffRate: 2 },
        timeoutSeconds: 300,
        toleratedFailurePercentage: 5,
      },
      { id: 'dependencies', dependsOn: ['analyze'], capability: { skill: 'dependency-mapping' } },
      {
        id: 'generate',
        dependsOn: ['analyze', 'dependencies'],
        forEach: 'analyze',
        when: { param: 'targetLanguage', equals: 'java' },
        capability: { skill: 'java-generation', input: 'cobol-analysis', output: 'java-source' },
        config: { package: '${params.javaPackage}' },
      },
      { id: 'report', dependsOn: ['generate'], capability: { skill: 'report-writing' } },
    ],
  };
}
