import { apiHandler, type RouteTable } from './api';
import { NotImplementedError } from '../../core/errors';
import { requirePrincipal } from '../../core/auth/principal';
import type { Log } from './api';

/**
 * Routes whose behaviour a later issue builds: they exist (so clients and tests see the whole surface) and
 * answer 501 with the route named, after the same authentication as the real thing.
 */
export function notYetBuilt(keys: string[], issue: string, log: Log) {
  const routes: RouteTable = {};
  for (const key of keys) {
    routes[key] = async (req) => {
      requirePrincipal(req.principal);
      throw new NotImplementedError(`${key} is not built yet (${issue})`);
    };
  }
  return apiHandler(routes, log);
}
