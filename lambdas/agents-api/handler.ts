import { apiHandler } from '../edge/http/api';
import { requiredEnv } from '../aws/env';
import { RegistryStore } from '../aws/registry-store';
import { logger } from '../edge/observability/logger';
import { agentRoutes } from './routes';

const store = new RegistryStore({ tableName: requiredEnv('AGENTS_TABLE') });

export const handler = apiHandler(agentRoutes(store), logger);
