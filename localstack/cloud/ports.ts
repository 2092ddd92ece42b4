import { createServer } from 'node:net';

/** Fixed ports by default (offsets from one base), so tools and docs can name them; all configurable. */
const PORT_OFFSETS = {
  rest: 0,
  websocket: 1,
  dynamodb: 2,
  s3: 3,
  stepfunctions: 4,
  sqs: 5,
  lambda: 6,
  dashboard: 7,
  // The backends the authorizing proxies front (localstack/cloud/iam): clients never call these directly.
  dynamodbBackend: 8,
  s3Backend: 9,
} as const;
export type ServiceName = keyof typeof PORT_OFFSETS;
export const DEFAULT_PORT_BASE = 4510;

export function portsFrom(base: number): Record<ServiceName, number> {
  const out = {} as Record<ServiceName, number>;
  for (const [name, offset] of Object.entries(PORT_OFFSETS)) out[name as ServiceName] = base + offset;
  return out;
}

class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
}

export function assertPortFree(port: number, host: string, service: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new PortInUseError(
              `Port ${port} (${service}) on ${host} is in use. Stop whatever holds it (another local cloud?) or choose other ports with --port-base N or AGENTPLANE_PORT_BASE.`,
            )
          : error,
      );
    });
    server.listen(port, host, () => server.close(() => { resolve(); }));
  });
}
