/**
 * Reads a synthesized cloud assembly and resolves the CloudFormation intrinsics CDK emits (Ref, Fn::GetAtt,
 * Fn::Join, Fn::Sub, Fn::Select, Fn::Split, Fn::If and conditions, pseudo parameters) into plain JSON, giving every
 * resource a deterministic physical id so data persisted by one start matches the next.
 */
import { createHash } from 'node:crypto';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION, type ResolvedProperties, type ResolvedResource, type ResolvedTemplate } from './types';

export interface RawTemplate {
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown>; DependsOn?: unknown; Metadata?: Record<string, unknown>; Condition?: string }>;
  Outputs?: Record<string, { Value: unknown }>;
  Conditions?: Record<string, unknown>;
  Parameters?: Record<string, { Default?: unknown }>;
}

export interface CloudAssembly {
  directory: string;
  stackName: string;
  template: RawTemplate;
  /** asset hash → absolute directory of the bundled code. */
  assetDirs: Map<string, string>;
}

export function readAssembly(directory: string, stackName: string): CloudAssembly {
  const templateFile = join(directory, `${stackName}.template.json`);
  if (!existsSync(templateFile)) throw new Error(`No template ${templateFile}: synthesize the app first`);
  const template = JSON.parse(readFileSync(templateFile, 'utf8')) as RawTemplate;
  const assetDirs = new Map<string, string>();
  const assetsFile = join(directory, `${stackName}.assets.json`);
  if (existsSync(assetsFile)) {
    const manifest = JSON.parse(readFileSync(assetsFile, 'utf8')) as { files?: Record<string, { source: { path: string } }> };
    for (const [hash, file] of Object.entries(manifest.files ?? {})) assetDirs.set(hash, join(directory, file.source.path));
  }
  return { directory, stackName, template, assetDirs };
}

function suffix(stackName: string, logicalId: string, length = 12): string {
  return createHash('sha256').update(`${stackName}/${logicalId}`).digest('hex').slice(0, length).toUpperCase();
}

function shortId(stackName: string, logicalId: string): string {
  return createHash('sha256').update(`${stackName}/${logicalId}`).digest('hex').slice(0, 10);
}

export interface ResolveOptions {
  region?: string;
  accountId?: string;
  /** Values known only once a resource exists locally (a table's StreamArn, a queue's URL). */
  overrides?: Map<string, { physicalId?: string; attributes?: Record<string, string> }>;
  /** Rewrites every resolved string (e.g. API Gateway URLs to their loopback equivalents). */
  rewriteString?: (value: string) => string;
}

/** Physical ids and attributes by resource type, as CloudFormation would name things (deterministically here). */
function identify(stackName: string, logicalId: string, type: string, props: Record<string, unknown>, region: string, account: string) {
  const generated = `${stackName}-${logicalId}-${suffix(stackName, logicalId)}`;
  const attrs: Record<string, string> = {};
  let physicalId = generated;
  switch (type) {
    case 'AWS::DynamoDB::Table':
    case 'AWS::DynamoDB::GlobalTable': {
      physicalId = typeof props.TableName === 'string' ? props.TableName : generated;
      attrs.Arn = `arn:aws:dynamodb:${region}:${account}:table/${physicalId}`;
      attrs.StreamArn = `${attrs.Arn}/stream/1970-01-01T00:00:00.000`;
      attrs.TableId = shortId(stackName, logicalId);
      break;
    }
    case 'AWS::S3::Bucket': {
      physicalId = typeof props.BucketName === 'string' ? props.BucketName : generated.toLowerCase().slice(0, 63);
      attrs.Arn = `arn:aws:s3:::${physicalId}`;
      attrs.DomainName = `${physicalId}.s3.amazonaws.com`;
      attrs.RegionalDomainName = `${physicalId}.s3.${region}.amazonaws.com`;
      break;
    }
    case 'AWS::Lambda::Function': {
      physicalId = typeof props.FunctionName === 'string' ? props.FunctionName : generated.slice(0, 64);
      attrs.Arn = `arn:aws:lambda:${region}:${account}:function:${physicalId}`;
      break;
    }
    case 'AWS::IAM::Role': {
      physicalId = typeof props.RoleName === 'string' ? props.RoleName : generated.slice(0, 64);
      attrs.Arn = `arn:aws:iam::${account}:role/${physicalId}`;
      attrs.RoleId = `AROA${suffix(stackName, logicalId, 16)}`;
      break;
    }
    case 'AWS::Logs::LogGroup': {
      physicalId = typeof props.LogGroupName === 'string' ? props.LogGroupName : generated;
      attrs.Arn = `arn:aws:logs:${region}:${account}:log-group:${physicalId}:*`;
      break;
    }
    case 'AWS::SQS::Queue': {
      const name = typeof props.QueueName === 'string' ? props.QueueName : generated.slice(0, 80);
      physicalId = `https://sqs.${region}.amazonaws.com/${account}/${name}`;
      attrs.Arn = `arn:aws:sqs:${region}:${account}:${name}`;
      attrs.QueueName = name;
      attrs.QueueUrl = physicalId;
      break;
    }
    case 'AWS::StepFunctions::StateMachine': {
      const name = typeof props.StateMachineName === 'string' ? props.StateMachineName : generated;
      physicalId = `arn:aws:states:${region}:${account}:stateMachine:${name}`;
      attrs.Arn = physicalId;
      attrs.Name = name;
      break;
    }
    case 'AWS::Events::Rule': {
      physicalId = typeof props.Name === 'string' ? props.Name : generated.slice(0, 64);
      attrs.Arn = `arn:aws:events:${region}:${account}:rule/${physicalId}`;
      break;
    }
    case 'AWS::ApiGateway::RestApi': {
      physicalId = shortId(stackName, logicalId);
      attrs.RootResourceId = shortId(stackName, `${logicalId}/root`);
      attrs.RestApiId = physicalId;
      break;
    }
    case 'AWS::ApiGatewayV2::Api': {
      physicalId = shortId(stackName, logicalId);
      attrs.ApiId = physicalId;
      attrs.ApiEndpoint = `wss://${physicalId}.execute-api.${region}.amazonaws.com`;
      break;
    }
    case 'AWS::ApiGateway::Stage':
    case 'AWS::ApiGatewayV2::Stage': {
      physicalId = typeof props.StageName === 'string' ? props.StageName : 'prod';
      break;
    }
    case 'AWS::ApiGateway::Resource':
    case 'AWS::ApiGateway::Authorizer':
    case 'AWS::ApiGateway::Deployment':
    case 'AWS::ApiGatewayV2::Route':
    case 'AWS::ApiGatewayV2::Integration':
    case 'AWS::ApiGatewayV2::Authorizer':
    case 'AWS::ApiGatewayV2::RouteResponse': {
      physicalId = shortId(stackName, logicalId);
      attrs.AuthorizerId = physicalId;
      attrs.RouteId = physicalId;
      attrs.IntegrationId = physicalId;
      attrs.ResourceId = physicalId;
      attrs.DeploymentId = physicalId;
      break;
    }
    case 'AWS::Lambda::EventSourceMapping': {
      const h = createHash('sha256').update(`${stackName}/${logicalId}`).digest('hex');
      physicalId = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
      attrs.Id = physicalId;
      break;
    }
    default:
      break;
  }
  return { physicalId, attrs };
}

const NO_VALUE = Symbol('AWS::NoValue');

export function resolveTemplate(assembly: CloudAssembly, options: ResolveOptions = {}): ResolvedTemplate {
  const region = options.region ?? LOCAL_REGION;
  const account = options.accountId ?? LOCAL_ACCOUNT_ID;
  const { template, stackName } = assembly;
  const ids = new Map<string, { physicalId: string; attrs: Record<string, string> }>();
  for (const [logicalId, res] of Object.entries(template.Resources)) {
    const base = identify(stackName, logicalId, res.Type, res.Properties ?? {}, region, account);
    const override = options.overrides?.get(logicalId);
    ids.set(logicalId, {
      physicalId: override?.physicalId ?? base.physicalId,
      attrs: { ...base.attrs, ...override?.attributes },
    });
  }
  const pseudo: Record<string, string> = {
    'AWS::Region': region,
    'AWS::AccountId': account,
    'AWS::Partition': 'aws',
    'AWS::URLSuffix': 'amazonaws.com',
    'AWS::StackName': stackName,
    'AWS::StackId': `arn:aws:cloudformation:${region}:${account}:stack/${stackName}/${suffix(stackName, 'stack', 8)}`,
  };
  const parameters: Record<string, unknown> = {};
  for (const [name, p] of Object.entries(template.Parameters ?? {})) parameters[name] = p.Default;

  const refOf = (name: string, where: string): unknown => {
    if (name === 'AWS::NoValue') return NO_VALUE;
    if (name in pseudo) return pseudo[name];
    if (name in parameters) return parameters[name];
    const id = ids.get(name);
    if (!id) throw new Error(`${where}: Ref to unknown resource ${name}`);
    return id.physicalId;
  };
  const getAtt = (logicalId: string, attr: string, where: string): string => {
    const id = ids.get(logicalId);
    if (!id) throw new Error(`${where}: Fn::GetAtt of unknown resource ${logicalId}`);
    // An attribute the resource type does not have is absent from the record.
    const value = id.attrs[attr] as string | undefined;
    if (value === undefined) {
      // Only ids of the template's resources are in `ids`, so the resource is there.
      const type = template.Resources[logicalId].Type;
      throw new Error(`${where}: Fn::GetAtt ${logicalId}.${attr} (${type}) is not supported by the local cloud`);
    }
    return value;
  };

  const conditionCache = new Map<string, boolean>();
  const evalCondition = (name: string, where: string): boolean => {
    const cached = conditionCache.get(name);
    if (cached !== undefined) return cached;
    const expr = template.Conditions?.[name];
    if (expr === undefined) throw new Error(`${where}: unknown condition ${name}`);
    const value = Boolean(resolve(expr, `Conditions.${name}`));
    conditionCache.set(name, value);
    return value;
  };

  const resolve = (value: unknown, where: string): unknown => {
    if (Array.isArray(value)) return value.map((v, i) => resolve(v, `${where}[${i}]`)).filter((v) => v !== NO_VALUE);
    if (typeof value === 'string') return options.rewriteString ? options.rewriteString(value) : value;
    if (value === null || typeof value !== 'object') return value;
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj);
    if (keys.length === 1) {
      const [key] = keys as [string];
      const arg = obj[key];
      switch (key) {
        case 'Ref':
          return finish(refOf(String(arg), where));
        case 'Fn::GetAtt': {
          const [logicalId, attr] = Array.isArray(arg) ? (arg as unknown[]) : String(arg).split(/\.(.*)/s);
          return finish(getAtt(String(logicalId), String(attr), where));
        }
        case 'Fn::Join': {
          const [sep, parts] = arg as [string, unknown];
          const list = resolve(parts, where) as unknown[];
          return finish(list.map(String).join(sep));
        }
        case 'Fn::Select': {
          const [index, list] = arg as [unknown, unknown];
          return (resolve(list, where) as unknown[])[Number(resolve(index, where))];
        }
        case 'Fn::Split': {
          const [sep, source] = arg as [string, unknown];
          return String(resolve(source, where)).split(sep);
        }
        case 'Fn::Sub': {
          const [text, vars] = Array.isArray(arg) ? (arg as [string, Record<string, unknown>]) : [String(arg), {}];
          const resolvedVars = resolve(vars, where) as Record<string, unknown>;
          return finish(
            text.replace(/\$\{([^}!][^}]*)\}/g, (_m, name: string) => {
              if (name in resolvedVars) return String(resolvedVars[name]);
              if (name.includes('.') && !name.startsWith('AWS::')) {
                const [logicalId, attr] = name.split(/\.(.*)/s) as [string, string];
                return getAtt(logicalId, attr, where);
              }
              return String(refOf(name, where));
            }).replace(/\$\{!/g, '${'),
          );
        }
        case 'Fn::If': {
          const [cond, whenTrue, whenFalse] = arg as [string, unknown, unknown];
          return resolve(evalCondition(cond, where) ? whenTrue : whenFalse, where);
        }
        case 'Fn::Equals': {
          const [a, b] = resolve(arg, where) as [unknown, unknown];
          return JSON.stringify(a) === JSON.stringify(b);
        }
        case 'Fn::Not':
          return !(resolve(arg, where) as unknown[])[0];
        case 'Fn::And':
          return (resolve(arg, where) as unknown[]).every(Boolean);
        case 'Fn::Or':
          return (resolve(arg, where) as unknown[]).some(Boolean);
        case 'Condition':
          return evalCondition(String(arg), where);
        case 'Fn::GetAZs':
          return [`${region}a`, `${region}b`, `${region}c`];
        case 'Fn::Base64':
          return Buffer.from(String(resolve(arg, where))).toString('base64');
        default:
          if (key.startsWith('Fn::')) throw new Error(`${where}: intrinsic ${key} is not supported by the local cloud`);
      }
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) {
      const r = resolve(v, `${where}.${k}`);
      if (r !== NO_VALUE) out[k] = r;
    }
    return out;
  };
  const finish = (value: unknown): unknown =>
    typeof value === 'string' && options.rewriteString ? options.rewriteString(value) : value;

  const resources = new Map<string, ResolvedResource>();
  for (const [logicalId, res] of Object.entries(template.Resources)) {
    if (res.Condition && !evalCondition(res.Condition, logicalId)) continue;
    const id = ids.get(logicalId);
    if (!id) throw new Error(`${logicalId}: resource missing from the identified resources`);
    resources.set(logicalId, {
      logicalId,
      type: res.Type,
      properties: resolve(res.Properties ?? {}, `${logicalId}.Properties`) as ResolvedProperties,
      physicalId: id.physicalId,
      attributes: id.attrs,
      metadata: { DependsOn: res.DependsOn, Metadata: res.Metadata },
    });
  }
  const outputs: Record<string, string> = {};
  for (const [name, out] of Object.entries(template.Outputs ?? {})) outputs[name] = String(resolve(out.Value, `Outputs.${name}`));
  return { stackName, region, accountId: account, resources, outputs };
}

export function resourcesOfType(template: ResolvedTemplate, ...types: string[]): ResolvedResource[] {
  return [...template.resources.values()].filter((r) => types.includes(r.type));
}
