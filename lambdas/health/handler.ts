import type { APIGatewayProxyResult } from 'aws-lambda';

const startedAt = new Date().toISOString();

/** Liveness only: no auth and no dependency, so it answers even when a table is unreachable. */
export const handler = (): Promise<APIGatewayProxyResult> =>
  Promise.resolve({
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      status: 'ok',
      service: 'agentplane',
      function: process.env.AWS_LAMBDA_FUNCTION_NAME,
      region: process.env.AWS_REGION,
      coldStartAt: startedAt,
    }),
  });
