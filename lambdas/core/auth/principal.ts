import { ForbiddenError, UnauthorizedError } from '../errors';

/** Who is calling: set by the authorizer, read by every handler. */
export interface Principal {
  tenant: string;
  admin: boolean;
  tokenId: string;
}

/** API Gateway hands the authorizer's context over as strings; this restores the types. */
export function principalFromAuthorizer(context: Record<string, unknown> | null | undefined): Principal | undefined {
  if (!context || typeof context.tenant !== 'string' || context.tenant === '') return undefined;
  return {
    tenant: context.tenant,
    admin: context.admin === true || context.admin === 'true',
    tokenId: typeof context.tokenId === 'string' ? context.tokenId : '',
  };
}

export function requirePrincipal(principal: Principal | undefined): Principal {
  if (!principal) throw new UnauthorizedError('Missing or invalid bearer token');
  return principal;
}

export function requireAdmin(principal: Principal | undefined): Principal {
  const p = requirePrincipal(principal);
  if (!p.admin) throw new ForbiddenError('This operation needs an admin token');
  return p;
}
