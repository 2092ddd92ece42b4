import { notYetBuilt } from '../shared/http/placeholder';
import { logger } from '../shared/observability/logger';

export const handler = notYetBuilt(
  [
    'POST /agents',
    'GET /agents',
    'GET /agents/{id}',
    'DELETE /agents/{id}',
    'POST /agents/discover',
    'GET /agents/{id}/health',
    'GET /agents/{id}/metrics',
  ],
  'agent registry',
  logger,
);
