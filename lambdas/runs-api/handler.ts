import { notYetBuilt } from '../shared/http/placeholder';
import { logger } from '../shared/observability/logger';

export const handler = notYetBuilt(
  [
    'POST /runs',
    'GET /runs',
    'GET /runs/{id}',
    'POST /runs/{id}/uploads',
    'POST /runs/{id}/commands',
    'GET /runs/{id}/events',
    'GET /runs/{id}/workspace',
  ],
  'runs',
  logger,
);
