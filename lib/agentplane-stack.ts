import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { AgentplaneFunction } from './agentplane-function';
import { AgentplaneTables } from './tables';
import { RUN_OBJECTS, WorkspaceBucket } from './workspace-bucket';
import { deploymentNamesOf } from './deployment';
import { BODY_PREFIX } from '../lambdas/aws/workflow-store';
import { ControlApi } from './control-api';
import { ProgressSocket } from './progress-socket';
import { Engine } from './engine';
import { WorkflowEngine } from './workflows';
import { Runs } from './runs';
import { BuiltInAgents } from './agents';
import { AgentRegistry, bindRegistryReader } from './registry';
import { acknowledge, logicalIdOf, stackAcknowledgements } from './nag-suppressions';

export interface AgentplaneStackProps extends StackProps {
  /** Keep data on `cdk destroy` (production) or remove it (dev stacks). */
  retainData?: boolean;
}

export class AgentplaneStack extends Stack {
  constructor(scope: Construct, id: string, props: AgentplaneStackProps = {}) {
    super(scope, id, props);
    const removalPolicy = props.retainData === false ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    const names = deploymentNamesOf(this);
    const tables = new AgentplaneTables(this, 'Tables', { removalPolicy });
    const workspace = new WorkspaceBucket(this, 'Workspace', { removalPolicy });

    const fn = (id: string, handlerDir: string, description: string) => new AgentplaneFunction(this, id, { handlerDir, description });

    const authorizer = fn('Authorizer', 'authorizer', 'Bearer token authorizer for the REST API and WebSocket $connect')
      .bindTable(tables.tokens, 'TOKENS_TABLE', 'getItem');
    const health = fn('Health', 'health', 'GET /health liveness');
    const adminApi = fn('AdminApi', 'admin-api', 'Tokens and quotas (admin)').bindTable(tables.tokens, 'TOKENS_TABLE', 'readWrite');
    const workflowsApi = fn('WorkflowsApi', 'workflows-api', 'Workflow registration, validation and compilation')
      .bindTable(tables.workflows, 'WORKFLOWS_TABLE', 'readWrite');
    const runsApi = fn('RunsApi', 'runs-api', 'Runs: start, state, control, events, workspace')
      .bindTable(tables.runs, 'RUNS_TABLE', 'readWrite')
      .bindTable(tables.events, 'EVENTS_TABLE', 'read')
      .bindBucket(workspace.bucket, 'WORKSPACE_BUCKET', 'readWrite', RUN_OBJECTS);
    // Workflow bodies too large for a DynamoDB item live under workflows/ (lambdas/aws/workflow-store.ts).
    workspace.bucket.grantRead(runsApi, `${BODY_PREFIX}*`);
    const agentsApi = bindRegistryReader(
      fn('AgentsApi', 'agents-api', 'Agent registry: register, discover, health, metrics').bindTable(tables.agents, 'AGENTS_TABLE', 'readWrite'),
    );

    const api = new ControlApi(this, 'ControlApi', {
      authorizer,
      health,
      routes: {
        'POST /workflows': workflowsApi,
        'GET /workflows': workflowsApi,
        'GET /workflows/{id}': workflowsApi,
        'POST /workflows/validate': workflowsApi,
        'POST /runs': runsApi,
        'GET /runs': runsApi,
        'GET /runs/{id}': runsApi,
        'POST /runs/{id}/uploads': runsApi,
        'POST /runs/{id}/commands': runsApi,
        'GET /runs/{id}/events': runsApi,
        'GET /runs/{id}/workspace': runsApi,
        'POST /agents': agentsApi,
        'GET /agents': agentsApi,
        'GET /agents/{id}': agentsApi,
        'DELETE /agents/{id}': agentsApi,
        'POST /agents/discover': agentsApi,
        'GET /agents/{id}/health': agentsApi,
        'GET /agents/{id}/metrics': agentsApi,
        'GET /quotas': adminApi,
        'PUT /quotas': adminApi,
        'POST /tokens': adminApi,
      },
    });

    const connection = fn('WsConnection', 'ws-connection', 'WebSocket $connect / $disconnect')
      .bindTable(tables.connections, 'CONNECTIONS_TABLE', 'readWrite');
    const messages = fn('WsMessages', 'ws-messages', 'WebSocket request frames (subscribe, runs.get, runs.command, ping)')
      .bindTable(tables.connections, 'CONNECTIONS_TABLE', 'readWrite')
      .bindTable(tables.events, 'EVENTS_TABLE', 'read')
      .bindTable(tables.runs, 'RUNS_TABLE', 'read')
      .bindTable(tables.idempotency, 'IDEMPOTENCY_TABLE', 'readWrite');
    const broadcaster = fn('Broadcaster', 'broadcaster', 'Events stream to WebSocket subscribers')
      .bindTable(tables.connections, 'CONNECTIONS_TABLE', 'readWrite')
      .bindTable(tables.events, 'EVENTS_TABLE', 'read');
    // Readers of the event log fill a number whose emitter died with a conditional Noop Put, and nothing else.
    for (const reader of [runsApi, messages, broadcaster]) tables.events.grant(reader, 'dynamodb:PutItem');
    const socket = new ProgressSocket(this, 'ProgressSocket', {
      authorizer,
      connection,
      messages,
      broadcaster,
      events: tables.events,
    });

    const finalizer = fn('Finalizer', 'finalizer', 'Run end on execution status change: final status, summary, temp cleanup, final event')
      .bindTable(tables.runs, 'RUNS_TABLE', 'readWrite')
      .bindBucket(workspace.bucket, 'WORKSPACE_BUCKET', 'delete', RUN_OBJECTS);
    new Engine(this, 'Engine', { finalizer, stateMachinePrefix: names.stateMachinePrefix });
    const workflowEngine = new WorkflowEngine(this, 'Workflows', { tables, workspace: workspace.bucket, workflowsApi, names });
    new Runs(this, 'Runs', {
      tables,
      workspace: workspace.bucket,
      runsApi,
      finalizer,
      gate: workflowEngine.gate,
      workflowsApi,
      stateMachineRole: workflowEngine.stateMachineRole,
      // The WebSocket's runs.command runs the same commands as POST /runs/{id}/commands.
      commandHandlers: [messages],
      stateMachinePrefix: names.stateMachinePrefix,
    });

    const agentRuntime = { agents: tables.agents, events: tables.events, idempotency: tables.idempotency };
    const agents = new BuiltInAgents(this, 'Agents', { workspace: workspace.bucket, runtime: agentRuntime });
    new AgentRegistry(this, 'Registry', { tables: agentRuntime, builtIns: agents.registrations });

    acknowledge(
      this,
      stackAcknowledgements(this, {
        tableLogicalIds: [tables.runs, tables.connections, tables.tokens, tables.agents, tables.events, tables.workflows].map(logicalIdOf),
        bucketLogicalId: logicalIdOf(workspace.bucket),
        socketApiLogicalId: logicalIdOf(socket.api),
      }),
    );
    acknowledge(workspace.accessLogs, [
      { id: 'AwsSolutions::AwsSolutions-S1', reason: 'This is the server access log bucket of the workspace bucket; a log sink does not log to itself.' },
    ]);
    acknowledge(socket.failures, [
      { id: 'AwsSolutions::AwsSolutions-SQS3', reason: 'This queue is itself the on-failure destination (DLQ) of the events stream mapping.' },
    ]);

    new CfnOutput(this, 'RestApiUrl', { value: api.api.url });
    new CfnOutput(this, 'WebSocketUrl', { value: socket.stage.url });
    new CfnOutput(this, 'WorkspaceBucketName', { value: workspace.bucket.bucketName });
    new CfnOutput(this, 'TokensTableName', { value: tables.tokens.tableName, description: 'For bootstrapping the first admin token (agentplane tokens create --direct-table)' });
  }
}
