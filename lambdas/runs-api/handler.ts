import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { apiHandler } from '../edge/http/api';
import { logger } from '../edge/observability/logger';
import { requiredEnv } from '../aws/env';
import { runCommandDepsFromEnv } from '../aws/run-store';
import { WorkflowStore } from '../aws/workflow-store';
import { eventsRoutes } from './events-route';
import { runsRoutes } from './routes';
import { powertoolsIdempotency } from '../aws/idempotency';

const control = runCommandDepsFromEnv();

export const handler = apiHandler(
  {
    ...runsRoutes({
      ...control,
      runs: control.runs,
      workflows: new WorkflowStore({ tableName: requiredEnv('WORKFLOWS_TABLE'), bucket: control.bucket }),
      retentionDays: Number(process.env.RUN_RETENTION_DAYS ?? 30),
      // The local cloud's executions have no console page.
      consoleLinks: process.env.AGENTPLANE_LOCAL !== 'true',
      idempotent: powertoolsIdempotency({ tableName: requiredEnv('IDEMPOTENCY_TABLE'), keyPrefix: 'runs-api', client: new DynamoDBClient({}) }),
    }),
    ...eventsRoutes,
  },
  logger,
);
