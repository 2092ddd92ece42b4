/**
 * The authorizing proxy in front of DynamoDB Local: every request (tables and streams, batch, transact and
 * PartiQL included) is mapped to the IAM actions and resources it needs (./iam/request-actions.ts) and authorized
 * for the role its access key names before it is forwarded. A refusal is DynamoDB's own AccessDeniedException;
 * DynamoDB Local never sees the request.
 */
import { createServer, request as httpRequest, Agent, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { accessKeyOf, type IamAuthority } from './iam/authority';
import { dynamoDbPermissions, type AwsLocation } from './iam/request-actions';
import type { CloudLogger } from './types';

export interface DynamoDbFrontOptions {
  port: number;
  host: string;
  /** DynamoDB Local's own endpoint. */
  backendEndpoint: string;
  authority: IamAuthority;
  location: AwsLocation;
  /** Partition key attribute of each table, for the `dynamodb:LeadingKeys` condition key. */
  partitionKeyOf: (tableName: string) => string | undefined;
  logger: CloudLogger;
}

export interface DynamoDbFront {
  endpoint: string;
  close(): Promise<void>;
}

function readRaw(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => { resolve(Buffer.concat(chunks)); });
    req.on('error', reject);
  });
}

function sendError(res: ServerResponse, type: string, message: string): void {
  const body = JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, Message: message });
  res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0', 'content-length': Buffer.byteLength(body), 'x-amzn-requestid': randomUUID() });
  res.end(body);
}

/** `DynamoDB_20120810.PutItem` / `DynamoDBStreams_20120810.GetRecords` → the operation. */
function operationOf(target: string | string[] | undefined): string | undefined {
  return typeof target === 'string' ? /^DynamoDB(?:Streams)?_\d+\.(\w+)$/.exec(target)?.[1] : undefined;
}

export async function startDynamoDbFront(options: DynamoDbFrontOptions): Promise<DynamoDbFront> {
  const backend = new URL(options.backendEndpoint);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const { authority, logger } = options;

  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer): void => {
    const upstream = httpRequest(
      { host: backend.hostname, port: backend.port, method: req.method, path: req.url, headers: { ...req.headers, 'content-length': String(body.length) }, agent },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', (error) => {
      logger.warn('dynamodb front: backend request failed', { error: String(error) });
      if (!res.headersSent) sendError(res, 'InternalServerError', 'DynamoDB Local did not answer');
      else res.destroy();
    });
    upstream.end(body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readRaw(req);
    const operation = operationOf(req.headers['x-amz-target']);
    // Anything that is not an API call (a health probe, a malformed request) gets DynamoDB Local's own answer.
    if (req.method !== 'POST' || operation === undefined) { forward(req, res, body); return; }
    const caller = authority.callerForAccessKey(accessKeyOf(req.headers.authorization));
    if (caller.kind === 'role') {
      let input: unknown;
      try {
        input = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
      } catch {
        sendError(res, 'SerializationException', 'The request body is not valid JSON');
        return;
      }
      let permissions;
      try {
        permissions = dynamoDbPermissions(operation, typeof input === 'object' && input !== null ? (input as Record<string, unknown>) : {}, options.location, {
          partitionKeyOf: options.partitionKeyOf,
        });
      } catch (error) {
        sendError(res, 'ValidationException', (error as Error).message);
        return;
      }
      const decision = authority.authorize(caller, permissions);
      if (!decision.allowed) { sendError(res, 'AccessDeniedException', decision.message); return; }
    }
    forward(req, res, body);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      logger.error('dynamodb front: request failed', { error: String(error) });
      if (!res.headersSent) sendError(res, 'InternalServerError', 'The local DynamoDB front failed');
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => { resolve(); });
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://${options.host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => { resolve(); });
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}
