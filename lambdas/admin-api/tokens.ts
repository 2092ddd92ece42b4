import { z } from 'zod';
import { TENANT_PATTERN } from '../core/auth/tokens';

export const CreateTokenRequest = z
  .object({
    tenant: z.string().regex(TENANT_PATTERN, 'tenant must be 1-63 lowercase letters, digits or dashes, starting with a letter or digit'),
    admin: z.boolean().optional().default(false),
    name: z.string().min(1).max(100).optional(),
  })
  .strict();
export type CreateTokenRequest = z.output<typeof CreateTokenRequest>;
