import type { AgentRegistrationInput } from '../../core/agent-runtime';
import type { MigrationSkill } from './agents';

/**
 * The registry records of the six built-in migration agents, for the deploy-time seeding (lib/agents.ts
 * passes the function ARNs). Ids equal skills. cobol-analysis declares no `fileExtensions` constraint on
 * purpose: the step's items are every input (copybooks and JCL included, skipped by the agent), and the
 * constraint would reject the agent for them.
 */
export function migrationAgentRegistrations(functionArns: Record<MigrationSkill, string>, opts: { llmMaxConcurrency?: number } = {}): AgentRegistrationInput[] {
  const common = { version: '1.0.0', author: 'agentplane', tags: ['builtin', 'migration', 'cobol'] };
  const llmSchema = { useLlm: { type: 'boolean' }, maxOutputTokens: { type: 'integer', minimum: 64 } };
  return [
    {
      ...common,
      id: 'cobol-discovery',
      name: 'COBOL discovery',
      description: 'Inventory of the run inputs (programs, copybooks, JCL, unknown; lines, format, encoding problems) → reports/inventory.json.',
      functionArn: functionArns['cobol-discovery'],
      capabilities: [{ skill: 'cobol-discovery', output: 'cobol-inventory' }],
    },
    {
      ...common,
      id: 'cobol-analysis',
      name: 'COBOL analysis',
      description: 'Parses one COBOL program (fixed or free format, COPY resolved against the inputs) → outputs/analyze/<PROGRAM>.json. Non-program inputs succeed as skipped; a program with error diagnostics fails its item with them.',
      functionArn: functionArns['cobol-analysis'],
      capabilities: [{ skill: 'cobol-analysis', input: 'cobol-source', output: 'cobol-analysis' }],
      configSchema: { type: 'object', properties: { failOnErrors: { type: 'boolean' } } },
    },
    {
      ...common,
      id: 'dependency-mapping',
      name: 'Dependency mapping',
      description: 'Cross-program graph (calls, copybooks, files), cycles, entry points, migration order → reports/dependencies.json and .mmd.',
      functionArn: functionArns['dependency-mapping'],
      capabilities: [{ skill: 'dependency-mapping', input: 'cobol-analysis', output: 'dependency-graph' }],
    },
    {
      ...common,
      id: 'java-generation',
      name: 'Java generation',
      description: 'Java 17 per analyzed program (deterministic skeleton, paragraph bodies by the configured LLM) → outputs/java/.',
      functionArn: functionArns['java-generation'],
      capabilities: [{ skill: 'java-generation', input: 'cobol-analysis', output: 'java-source' }],
      configSchema: { type: 'object', properties: { javaPackage: { type: 'string' }, contextTokens: { type: 'integer', minimum: 1000 }, ...llmSchema } },
      ...(opts.llmMaxConcurrency ? { maxConcurrency: opts.llmMaxConcurrency } : {}),
      tags: [...common.tags, 'llm'],
    },
    {
      ...common,
      id: 'java-validation',
      name: 'Java validation',
      description: 'Compiles all generated Java with javac --release 17, per-file diagnostics, LLM repairs → reports/validation.json.',
      functionArn: functionArns['java-validation'],
      capabilities: [{ skill: 'java-validation', input: 'java-source', output: 'validation-report' }],
      configSchema: { type: 'object', properties: { repairAttempts: { type: 'integer', minimum: 0, maximum: 5 }, requireJavac: { type: 'boolean' }, ...llmSchema } },
      tags: [...common.tags, 'llm'],
    },
    {
      ...common,
      id: 'report-writing',
      name: 'Migration report',
      description: 'Migration report (Markdown and HTML): metrics, dependency diagram, migration order, generated and validated files, failures, tokens and cost.',
      functionArn: functionArns['report-writing'],
      capabilities: [{ skill: 'report-writing', output: 'migration-report' }],
      configSchema: { type: 'object', properties: { title: { type: 'string' }, usage: { type: 'array' } } },
    },
  ];
}
