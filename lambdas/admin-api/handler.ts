import { apiHandler, json, type RouteTable } from '../shared/http/api';
import { NotImplementedError } from '../shared/http/errors';
import { parseBody } from '../shared/http/validation';
import { requireAdmin } from '../shared/auth/principal';
import { TokenStore } from '../shared/aws/token-store';
import { requiredEnv } from '../shared/aws/env';
import { logger } from '../shared/observability/logger';
import { CreateTokenRequest } from './tokens';

const tokens = new TokenStore(requiredEnv('TOKENS_TABLE'));

const routes: RouteTable = {
  'POST /tokens': async (req) => {
    const admin = requireAdmin(req.principal);
    const input = parseBody(CreateTokenRequest, req.body);
    const { token, record } = await tokens.create({ ...input, createdBy: admin.tokenId });
    logger.info('token created', { tenant: record.tenant, tokenId: record.tokenId, admin: record.admin });
    return json(201, { token, tenant: record.tenant, admin: record.admin, tokenId: record.tokenId, name: record.name });
  },
  'GET /quotas': async (req) => {
    requireAdmin(req.principal);
    throw new NotImplementedError('Quotas are not built yet');
  },
  'PUT /quotas': async (req) => {
    requireAdmin(req.principal);
    throw new NotImplementedError('Quotas are not built yet');
  },
};

export const handler = apiHandler(routes, logger);
