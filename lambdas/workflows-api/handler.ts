import { notYetBuilt } from '../shared/http/placeholder';
import { logger } from '../shared/observability/logger';

export const handler = notYetBuilt(
  ['POST /workflows', 'GET /workflows', 'GET /workflows/{id}', 'POST /workflows/validate'],
  'workflows',
  logger,
);
