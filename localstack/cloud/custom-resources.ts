/**
 * CloudFormation custom resources (`Custom::*`, `AWS::CloudFormation::CustomResource`) backed by a Lambda
 * service token, run the way CloudFormation runs them: the service-token function is invoked with the
 * Create / Update / Delete request (RequestType, ResponseURL, StackId, RequestId, LogicalResourceId,
 * ResourceType, PhysicalResourceId, ResourceProperties, OldResourceProperties) and must answer by PUTting
 * `{Status, Reason, PhysicalResourceId, Data}` to the ResponseURL, here a loopback endpoint of our own.
 *
 * What was created is remembered under the data directory, so a restart sends nothing for an unchanged
 * resource, Update (with the old properties) for a changed one, Delete for one gone from the template, and
 * Delete of the old physical id when an Update replaced it, as CloudFormation's cleanup phase does.
 * A FAILED answer, or no answer, stops start-up with an error naming the resource.
 */
import { createServer, type Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fieldText } from './stepfunctions/json';
import type { CloudLogger, LambdaInvoker, ResolvedResource, ResolvedTemplate } from './types';

export function isCustomResourceType(type: string): boolean {
  return type.startsWith('Custom::') || type === 'AWS::CloudFormation::CustomResource';
}

interface CustomResourceResponse {
  Status: 'SUCCESS' | 'FAILED';
  Reason?: string;
  PhysicalResourceId?: string;
  StackId?: string;
  RequestId?: string;
  LogicalResourceId?: string;
  NoEcho?: boolean;
  Data?: Record<string, unknown>;
}

interface SavedResource {
  type: string;
  physicalId: string;
  properties: Record<string, unknown>;
  data?: Record<string, unknown>;
}

interface SavedState {
  resources: Record<string, SavedResource>;
}

export interface CustomResourceOptions {
  template: ResolvedTemplate;
  lambda: LambdaInvoker;
  /** Where what was created is remembered, e.g. `<dataDir>/custom-resources/state.json`. */
  stateFile: string;
  logger: CloudLogger;
  host?: string;
  /** Forget what was created (a fresh start: everything is created again). */
  fresh?: boolean;
  /** How long a service token may take to answer (CloudFormation waits an hour; locally, less). */
  timeoutMs?: number;
}

export interface CustomResourceReport {
  created: string[];
  updated: string[];
  unchanged: string[];
  deleted: string[];
}

export class CustomResourceError extends Error {
  override readonly name = 'CustomResourceError';
}

/** Key-order independent comparison of two property sets. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** CloudFormation hands every scalar property to the function as a string. */
export function stringifyScalars(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stringifyScalars);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, stringifyScalars(v)]));
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return value;
}

function readState(file: string): SavedState {
  if (!existsSync(file)) return { resources: {} };
  try {
    // A hand-edited or truncated file may hold any JSON: only an object with a resources object is a state.
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<SavedState> | null;
    return typeof parsed?.resources === 'object' ? (parsed as SavedState) : { resources: {} };
  } catch {
    return { resources: {} };
  }
}

function writeState(file: string, state: SavedState): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n');
  renameSync(tmp, file);
}

/** Custom resources in an order that honours DependsOn among them. */
function ordered(resources: ResolvedResource[]): ResolvedResource[] {
  const byId = new Map(resources.map((r) => [r.logicalId, r]));
  const out: ResolvedResource[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (r: ResolvedResource) => {
    if (state.get(r.logicalId) === 'done') return;
    if (state.get(r.logicalId) === 'visiting') throw new CustomResourceError(`custom resources depend on each other in a cycle through ${r.logicalId}`);
    state.set(r.logicalId, 'visiting');
    for (const dep of [r.metadata?.DependsOn ?? []].flat() as string[]) {
      const other = byId.get(dep);
      if (other) visit(other);
    }
    state.set(r.logicalId, 'done');
    out.push(r);
  };
  for (const r of resources) visit(r);
  return out;
}

/** The loopback ResponseURL endpoint: one waiter per request id. */
class ResponseEndpoint {
  private server: Server | undefined;
  private base = '';
  private waiters = new Map<string, (response: CustomResourceResponse) => void>();

  async start(host: string): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const id = decodeURIComponent((req.url ?? '').split('/').pop() ?? '');
        const waiter = this.waiters.get(id);
        if (req.method !== 'PUT' || !waiter) {
          res.writeHead(req.method !== 'PUT' ? 405 : 404).end();
          return;
        }
        let body: CustomResourceResponse;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as CustomResourceResponse;
        } catch {
          res.writeHead(400).end();
          return;
        }
        this.waiters.delete(id);
        res.writeHead(200).end();
        waiter(body);
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, () => { resolve(); });
    });
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    this.base = `http://${host}:${port}/cloudformation-response`;
  }

  expect(requestId: string): { url: string; response: Promise<CustomResourceResponse>; cancel(): void } {
    let resolve!: (r: CustomResourceResponse) => void;
    const response = new Promise<CustomResourceResponse>((r) => (resolve = r));
    this.waiters.set(requestId, resolve);
    return { url: `${this.base}/${encodeURIComponent(requestId)}`, response, cancel: () => this.waiters.delete(requestId) };
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server) await new Promise<void>((r) => server.close(() => { r(); }));
  }
}

export async function runCustomResources(options: CustomResourceOptions): Promise<CustomResourceReport> {
  const { template, lambda, logger } = options;
  const timeoutMs = options.timeoutMs ?? 120_000;
  if (options.fresh) rmSync(options.stateFile, { force: true });
  const state = readState(options.stateFile);
  const report: CustomResourceReport = { created: [], updated: [], unchanged: [], deleted: [] };
  const resources = ordered([...template.resources.values()].filter((r) => isCustomResourceType(r.type)));
  const stackId = `arn:aws:cloudformation:${template.region}:${template.accountId}:stack/${template.stackName}/local`;
  const endpoint = new ResponseEndpoint();
  await endpoint.start(options.host ?? '127.0.0.1');

  const send = async (
    resource: { logicalId: string; type: string },
    requestType: 'Create' | 'Update' | 'Delete',
    properties: Record<string, unknown>,
    extra: { physicalId?: string; oldProperties?: Record<string, unknown> } = {},
  ): Promise<CustomResourceResponse> => {
    const where = `${resource.logicalId} (${resource.type})`;
    const token = fieldText(properties.ServiceToken ?? '');
    if (!token) throw new CustomResourceError(`${where}: no ServiceToken`);
    if (!lambda.has(token)) {
      throw new CustomResourceError(`${where}: service token ${token} is not a Lambda function of the local cloud (SNS service tokens are not supported)`);
    }
    const requestId = randomUUID();
    const waiter = endpoint.expect(requestId);
    const event = {
      RequestType: requestType,
      ServiceToken: token,
      ResponseURL: waiter.url,
      StackId: stackId,
      RequestId: requestId,
      LogicalResourceId: resource.logicalId,
      ResourceType: resource.type,
      ...(extra.physicalId !== undefined ? { PhysicalResourceId: extra.physicalId } : {}),
      ResourceProperties: stringifyScalars(properties),
      ...(extra.oldProperties ? { OldResourceProperties: stringifyScalars(extra.oldProperties) } : {}),
    };
    let timer: NodeJS.Timeout | undefined;
    try {
      const invocation = lambda.invoke(token, event).then((result) => {
        if (result.ok) return new Promise<never>(() => undefined);
        // A crashed handler may still have answered just before; give the answer a moment to arrive.
        return new Promise<never>((_, reject) =>
          setTimeout(() => { reject(new CustomResourceError(`${where}: ${requestType} failed without answering CloudFormation: ${result.errorType}: ${result.errorMessage}`)); }, 1_000),
        );
      });
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => { reject(new CustomResourceError(`${where}: ${requestType} got no answer on its ResponseURL within ${Math.round(timeoutMs / 1000)} s`)); }, timeoutMs);
      });
      const response = await Promise.race([waiter.response, invocation, timeout]);
      if (response.Status !== 'SUCCESS') {
        throw new CustomResourceError(`${where}: ${requestType} FAILED: ${response.Reason ?? 'no reason given'}`);
      }
      return response;
    } finally {
      waiter.cancel();
      if (timer) clearTimeout(timer);
    }
  };

  try {
    for (const resource of resources) {
      // Absent for a resource not created yet.
      const saved = state.resources[resource.logicalId] as SavedResource | undefined;
      const properties = resource.properties;
      if (saved && saved.type === resource.type && canonical(saved.properties) === canonical(properties)) {
        report.unchanged.push(resource.logicalId);
        continue;
      }
      if (!saved || saved.type !== resource.type) {
        const response = await send(resource, 'Create', properties);
        state.resources[resource.logicalId] = {
          type: resource.type,
          physicalId: response.PhysicalResourceId ?? `${template.stackName}-${resource.logicalId}-${randomUUID().slice(0, 8)}`,
          properties,
          ...(response.Data ? { data: response.Data } : {}),
        };
        writeState(options.stateFile, state);
        report.created.push(resource.logicalId);
        logger.info('custom resource created', { logicalId: resource.logicalId, type: resource.type });
        continue;
      }
      const response = await send(resource, 'Update', properties, { physicalId: saved.physicalId, oldProperties: saved.properties });
      const physicalId = response.PhysicalResourceId ?? saved.physicalId;
      state.resources[resource.logicalId] = { type: resource.type, physicalId, properties, ...(response.Data ? { data: response.Data } : {}) };
      writeState(options.stateFile, state);
      report.updated.push(resource.logicalId);
      logger.info('custom resource updated', { logicalId: resource.logicalId, type: resource.type });
      if (physicalId !== saved.physicalId) {
        // A new physical id means the resource was replaced: CloudFormation deletes the old one afterwards.
        await send(resource, 'Delete', saved.properties, { physicalId: saved.physicalId }).catch((error: unknown) => { logger.warn('custom resource cleanup failed', { logicalId: resource.logicalId, error: String(error) }); },
        );
      }
    }

    const present = new Set(resources.map((r) => r.logicalId));
    for (const [logicalId, saved] of Object.entries(state.resources)) {
      if (present.has(logicalId)) continue;
      try {
        await send({ logicalId, type: saved.type }, 'Delete', saved.properties, { physicalId: saved.physicalId });
      } catch (error) {
        // As CloudFormation: a resource whose function is gone cannot be deleted by it; forget it and say so.
        logger.warn('custom resource delete failed', { logicalId, error: String(error) });
      }
      const { [logicalId]: _deleted, ...remaining } = state.resources;
      state.resources = remaining;
      writeState(options.stateFile, state);
      report.deleted.push(logicalId);
    }
  } finally {
    await endpoint.stop();
  }
  return report;
}

