/**
 * The layers of Agentplane and the one way their dependencies point, checked in `npm test` (`npm run lint:deps`):
 *
 *   lambdas/core/        the platform's domain: workflows, runs, registry, events, the agent runtime, auth, typed
 *                        errors. Pure: no AWS SDK, no Powertools, no adapter, handler, client or application.
 *   lambdas/edge/        handler plumbing: the HTTP edge (typed errors → status codes), logging.        → core
 *   lambdas/aws/         AWS adapters: the stores and clients that do what core asks for.              → core, edge
 *   lambdas/<function>/  the platform's Lambda handlers, thin: they wire core to adapters and edge.   → core, edge, aws
 *   lambdas/client/      the client library (CLI, sample run, dashboard, tests): the public API only.  → core/events,
 *                        and types (only) of core's other answers (e.g. a command's result)
 *   lambdas/migration/   the COBOL → Java application: its agents and their Lambdas, the COBOL parser, the Java
 *                        generator, the report.  → llm; the platform only through the agent runtime
 *                        (core/agent-runtime, and aws/agent-runtime.ts that binds it to Lambda)
 *   lambdas/llm/         LLM providers for agents (offline, OpenAI-compatible, Bedrock, with their own AWS adapters:
 *                        Bedrock, Secrets Manager, SSM). A library: it imports nothing of the project, and only
 *                        agents import it (the migration agents, and the platform's diagnostics agent).
 *   lib/, bin/           the CDK app (the composition root, which may import any module's constants) and the CLI.
 *   localstack/          the local cloud; test/ the tests; bench/ the benchmarks.
 * And everywhere: no import cycle.
 */
const FUNCTION_DIR = '^lambdas/(?!core/|aws/|edge/|client/|llm/|migration/)[^/]+/';
const OUTSIDE_PRODUCT = '^(lib|bin|localstack|test|bench)/';

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'No import cycle, in any layer.', from: {}, to: { circular: true } },
    {
      name: 'core-is-pure',
      severity: 'error',
      comment: 'The platform domain imports no adapter, plumbing, handler, client or application, and no AWS SDK or Powertools.',
      from: { path: '^lambdas/core/' },
      to: { path: ['^lambdas/(aws|edge|client|migration)/', FUNCTION_DIR, OUTSIDE_PRODUCT, 'node_modules/(@aws-sdk|@aws-lambda-powertools)/'] },
    },
    {
      name: 'edge-knows-core-only',
      severity: 'error',
      comment: 'Handler plumbing builds on core and nothing else of the project.',
      from: { path: '^lambdas/edge/' },
      to: { path: ['^lambdas/(aws|client|migration)/', FUNCTION_DIR, OUTSIDE_PRODUCT] },
    },
    {
      name: 'adapters-serve-core',
      severity: 'error',
      comment: 'AWS adapters do what core asks for; they never reach up into handlers, clients or applications.',
      from: { path: '^lambdas/aws/' },
      to: { path: ['^lambdas/(client|migration)/', FUNCTION_DIR, OUTSIDE_PRODUCT] },
    },
    {
      name: 'handlers-are-independent',
      severity: 'error',
      comment: 'A platform function does not import another function\'s modules: what two share belongs in core, edge or aws.',
      from: { path: '^lambdas/((?!core/|aws/|edge/|client/|llm/|migration/)[^/]+)/' },
      to: { path: FUNCTION_DIR, pathNot: '^lambdas/$1/' },
    },
    {
      name: 'client-speaks-the-public-api',
      severity: 'error',
      comment: 'The client shares the event protocol with the platform, nothing else at run time.',
      from: { path: '^lambdas/client/' },
      to: { path: ['^lambdas/(?!client/|core/)', OUTSIDE_PRODUCT] },
    },
    {
      name: 'client-borrows-only-types-from-core',
      severity: 'error',
      comment: 'Beyond the event protocol, the client may name the types of core\'s answers, never run its code.',
      from: { path: '^lambdas/client/' },
      to: { path: '^lambdas/core/(?!events/)', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'application-through-the-agent-runtime',
      severity: 'error',
      comment: 'The migration application reaches the platform only through the agent runtime.',
      from: { path: '^lambdas/migration/' },
      to: { path: ['^lambdas/(?!migration/|llm/|core/agent-runtime/|aws/agent-runtime\\.ts$)', OUTSIDE_PRODUCT] },
    },
    {
      name: 'llm-is-a-library',
      severity: 'error',
      comment: 'The LLM providers stand alone, and only agents use them: never core, edge, the adapters or the client.',
      from: { path: '^lambdas/llm/' },
      to: { path: ['^lambdas/(?!llm/)', OUTSIDE_PRODUCT] },
    },
    {
      name: 'llm-is-for-agents',
      severity: 'error',
      from: { path: '^lambdas/(core|edge|aws|client)/' },
      to: { path: '^lambdas/llm/' },
    },
    {
      name: 'platform-knows-no-application',
      severity: 'error',
      comment: 'Nothing of the platform, nor the local cloud, imports the application (the CDK app, the composition root, may).',
      from: { path: ['^lambdas/(?!migration/)', '^localstack/'] },
      to: { path: '^lambdas/migration/' },
    },
    {
      name: 'handlers-are-entry-points',
      severity: 'error',
      comment: 'A handler module is an entry point: only tests import one.',
      from: { pathNot: '^test/' },
      to: { path: '/handler\\.ts$' },
    },
    {
      name: 'product-never-imports-tests-or-tools',
      severity: 'error',
      comment: 'What deploys never depends on the tests, the benchmarks or the local cloud.',
      from: { path: '^(lambdas|lib|bin)/' },
      to: { path: '^(test|bench|localstack)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|cdk\\.out|\\.agentplane)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.mjs', '.js', '.json'] },
  },
};
