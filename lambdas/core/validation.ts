import type { z } from 'zod';
import { ValidationError, type ProblemDetail } from './errors';

/** `['steps', 2, 'id']` → `$.steps[2].id`: the JSON path clients see in every 400. */
export function jsonPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '$';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (typeof part === 'string' && /^[A-Za-z_$][\w$]*$/.test(part)) out += `.${part}`;
    else out += `[${JSON.stringify(String(part))}]`;
  }
  return out;
}

export function problemsOf(error: z.ZodError): ProblemDetail[] {
  return error.issues.map((issue) => ({ path: jsonPath(issue.path), code: issue.code, message: issue.message }));
}

/** Parses a request body with a zod schema; every problem is reported at once, each with its JSON path. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown, what = 'request body'): z.output<S> {
  if (body === undefined) throw new ValidationError(`Missing ${what}`, [{ path: '$', message: 'A JSON body is required' }]);
  const result = schema.safeParse(body);
  if (!result.success) throw new ValidationError(`Invalid ${what}`, problemsOf(result.error));
  return result.data;
}
