import { apiHandler } from '../shared/http/api';
import { requiredEnv } from '../shared/aws/env';
import { RegistryStore } from '../shared/aws/registry-store';
import { logger } from '../shared/observability/logger';
import { agentRoutes } from './routes';

const store = new RegistryStore({ tableName: requiredEnv('AGENTS_TABLE') });

export const handler = apiHandler(agentRoutes(store), logger);
