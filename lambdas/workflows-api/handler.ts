import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { apiHandler } from '../edge/http/api';
import { dynamo } from '../aws/clients';
import { requiredEnv } from '../aws/env';
import { WorkflowStore } from '../aws/workflow-store';
import { SKILL_INDEX } from '../aws/registry-keys';
import { logger } from '../edge/observability/logger';
import { workflowRoutes, type KnownSkills } from './routes';
import { sfnStateMachines } from './state-machines';
import { powertoolsIdempotency } from '../aws/idempotency';

const agentsTable = requiredEnv('AGENTS_TABLE');
const workspaceBucket = requiredEnv('WORKSPACE_BUCKET');

/** A skill is known when the registry's bySkill index has at least one entry for it (one small Query each). */
const skills: KnownSkills = {
  async known(list) {
    const known = new Set<string>();
    const queue = [...list];
    const worker = async () => {
      for (let skill = queue.pop(); skill !== undefined; skill = queue.pop()) {
        const { Count } = await dynamo().send(
          new QueryCommand({
            TableName: agentsTable,
            IndexName: SKILL_INDEX,
            KeyConditionExpression: 'skill = :skill',
            ExpressionAttributeValues: { ':skill': skill },
            Select: 'COUNT',
            Limit: 1,
          }),
        );
        if ((Count ?? 0) > 0) known.add(skill);
      }
    };
    await Promise.all(Array.from({ length: Math.min(8, queue.length) }, worker));
    return known;
  },
};

// Item admission (runs issue): compiled machines bracket each agent invocation with the item gate when it is deployed.
const engineFunctions = {
  gate: requiredEnv('GATE_FUNCTION_ARN'),
  reporter: requiredEnv('REPORTER_FUNCTION_ARN'),
  ...(process.env.ITEM_GATE_FUNCTION_ARN ? { itemGate: process.env.ITEM_GATE_FUNCTION_ARN } : {}),
};

export const handler = apiHandler(
  workflowRoutes({
    store: new WorkflowStore({ tableName: requiredEnv('WORKFLOWS_TABLE'), bucket: workspaceBucket }),
    stateMachines: sfnStateMachines({
      client: new SFNClient({}),
      roleArn: requiredEnv('STATE_MACHINE_ROLE_ARN'),
      arnPrefix: requiredEnv('STATE_MACHINE_ARN_PREFIX'),
      ...(process.env.WORKFLOW_LOG_GROUP_ARN ? { logGroupArn: process.env.WORKFLOW_LOG_GROUP_ARN } : {}),
    }),
    skills,
    functions: engineFunctions,
    workspaceBucket,
    deployment: {
      ...(process.env.STATE_MACHINE_NAME_PREFIX ? { stateMachinePrefix: process.env.STATE_MACHINE_NAME_PREFIX } : {}),
      ...(process.env.DEPLOYMENT_NAME ? { name: process.env.DEPLOYMENT_NAME } : {}),
    },
    idempotent: powertoolsIdempotency({ tableName: requiredEnv('IDEMPOTENCY_TABLE'), keyPrefix: 'workflows-api.register', client: new DynamoDBClient({}) }),
  }),
  logger,
);
