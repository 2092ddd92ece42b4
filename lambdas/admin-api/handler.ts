import { apiHandler, json, type RouteTable } from '../edge/http/api';
import { NotImplementedError } from '../core/errors';
import { parseBody } from '../core/validation';
import { requireAdmin } from '../core/auth/principal';
import { TokenStore } from '../aws/token-store';
import { requiredEnv } from '../aws/env';
import { logger } from '../edge/observability/logger';
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
  'GET /quotas': (req) => {
    requireAdmin(req.principal);
    return Promise.reject(new NotImplementedError('Quotas are not built yet'));
  },
  'PUT /quotas': (req) => {
    requireAdmin(req.principal);
    return Promise.reject(new NotImplementedError('Quotas are not built yet'));
  },
};

export const handler = apiHandler(routes, logger);
