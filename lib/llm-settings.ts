import { Aws } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import type { AgentplaneFunction } from './agentplane-function';
import { contextText, DeploymentConfigError } from './deployment';
import { acknowledge } from './nag-suppressions';

/**
 * The LLM the migration agents use, decided at deploy: CDK context (`-c agentplane:llmModel=…`) first, then the
 * deploying shell's `AGENTPLANE_LLM_*` variables (docs/llm.md), then the defaults: Bedrock in a deployed stack,
 * the offline provider in the local cloud (whose synth sets `agentplane:local`). The API key itself is never
 * taken: only the name of the secret or parameter holding it, which is also what the grants below are scoped to.
 */
type LlmProviderKind = 'offline' | 'openai' | 'bedrock';

export interface LlmSettings {
  provider: LlmProviderKind;
  model: string;
  /** Bedrock's region; undefined: the stack's own. */
  region?: string;
  /** Bedrock inference profiles: the regions the profile routes to (its foundation model is invoked there). */
  profileRegions?: string[];
  baseUrl?: string;
  apiKeySecret?: string;
  apiKeySecretField?: string;
  apiKeyParameter?: string;
  /** Every other AGENTPLANE_LLM_* setting (prices, timeouts, concurrency) passed through to the agents. */
  passThrough: Record<string, string>;
}

export const DEFAULT_BEDROCK_MODEL = 'amazon.nova-pro-v1:0';

const CONTEXT = {
  provider: 'agentplane:llmProvider',
  model: 'agentplane:llmModel',
  region: 'agentplane:llmRegion',
  profileRegions: 'agentplane:llmProfileRegions',
  baseUrl: 'agentplane:llmBaseUrl',
  apiKeySecret: 'agentplane:llmApiKeySecret',
  apiKeySecretField: 'agentplane:llmApiKeySecretField',
  apiKeyParameter: 'agentplane:llmApiKeyParameter',
} as const;
export const LOCAL_CONTEXT = 'agentplane:local';

/** Environment names of the same settings, as the agents read them (lambdas/llm/config.ts). */
const ENV = {
  provider: 'AGENTPLANE_LLM_PROVIDER',
  model: 'AGENTPLANE_LLM_MODEL',
  region: 'AGENTPLANE_LLM_REGION',
  profileRegions: 'AGENTPLANE_LLM_PROFILE_REGIONS',
  baseUrl: 'AGENTPLANE_LLM_BASE_URL',
  apiKeySecret: 'AGENTPLANE_LLM_API_KEY_SECRET',
  apiKeySecretField: 'AGENTPLANE_LLM_API_KEY_SECRET_FIELD',
  apiKeyParameter: 'AGENTPLANE_LLM_API_KEY_PARAMETER',
} as const;
/** Never synthesized into a template: a key in plain text belongs in a secret. */
const KEY_ITSELF = 'AGENTPLANE_LLM_API_KEY';

/**
 * Regions each geography's system-defined cross-Region inference profiles route to, as Bedrock documents them.
 * A profile can route to fewer; `-c agentplane:llmProfileRegions=a,b` names them exactly.
 */
const PROFILE_GEOGRAPHIES: Record<string, string[]> = {
  us: ['us-east-1', 'us-east-2', 'us-west-2'],
  'us-gov': ['us-gov-east-1', 'us-gov-west-1'],
  eu: ['eu-central-1', 'eu-north-1', 'eu-south-1', 'eu-south-2', 'eu-west-1', 'eu-west-3'],
  apac: ['ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3', 'ap-south-1', 'ap-south-2', 'ap-southeast-1', 'ap-southeast-2', 'ap-southeast-4'],
  jp: ['ap-northeast-1', 'ap-northeast-3'],
  au: ['ap-southeast-2', 'ap-southeast-4'],
};

type Source = (key: keyof typeof CONTEXT) => string | undefined;

export function llmSettings(context: (key: string) => unknown, env: Record<string, string | undefined>): LlmSettings {
  const read: Source = (key) => {
    const value = contextText(CONTEXT[key], context(CONTEXT[key])) ?? env[ENV[key]];
    return value?.trim() ? value.trim() : undefined;
  };
  const local = contextText(LOCAL_CONTEXT, context(LOCAL_CONTEXT)) === 'true';
  const provider = (read('provider') ?? (local ? 'offline' : 'bedrock')).toLowerCase();
  if (provider !== 'offline' && provider !== 'openai' && provider !== 'bedrock') {
    throw new DeploymentConfigError(`${CONTEXT.provider} must be offline, openai or bedrock, got '${provider}'`);
  }
  const model = read('model') ?? (provider === 'bedrock' ? DEFAULT_BEDROCK_MODEL : provider === 'offline' ? 'offline-deterministic-1' : undefined);
  if (!model) throw new DeploymentConfigError(`${CONTEXT.model} is required for the ${provider} provider`);
  const baseUrl = read('baseUrl');
  if (provider === 'openai' && baseUrl === undefined) throw new DeploymentConfigError(`${CONTEXT.baseUrl} is required for the openai provider`);
  const secret = read('apiKeySecret');
  const parameter = read('apiKeyParameter');
  if (secret && parameter) throw new DeploymentConfigError(`set ${CONTEXT.apiKeySecret} or ${CONTEXT.apiKeyParameter}, not both`);
  const settings: LlmSettings = { provider, model, passThrough: passThrough(env) };
  if (provider === 'bedrock') {
    const region = read('region');
    if (region) settings.region = region;
    const profileRegions = read('profileRegions')?.split(',').map((r) => r.trim()).filter(Boolean);
    const geography = inferenceProfileGeography(model);
    if (profileRegions?.length) settings.profileRegions = profileRegions;
    else if (geography === 'global') {
      throw new DeploymentConfigError(`${model} is a global inference profile: name the regions it may route to with ${CONTEXT.profileRegions}`);
    } else if (geography) settings.profileRegions = PROFILE_GEOGRAPHIES[geography];
  }
  if (provider === 'openai') {
    settings.baseUrl = baseUrl;
    if (secret) settings.apiKeySecret = secret;
    const field = read('apiKeySecretField');
    if (secret && field) settings.apiKeySecretField = field;
    if (parameter) settings.apiKeyParameter = parameter;
  }
  return settings;
}

export function llmSettingsOf(scope: Construct, env: Record<string, string | undefined> = process.env): LlmSettings {
  return llmSettings((key) => scope.node.tryGetContext(key), env);
}

/** `eu.anthropic.…` → `eu`; a plain model id or an ARN → undefined. */
export function inferenceProfileGeography(model: string): string | undefined {
  if (model.startsWith('arn:')) return undefined;
  const prefix = /^([a-z]{2,6}(?:-[a-z]{3})?)\.[a-z0-9-]+\./.exec(model)?.[1];
  if (!prefix) return undefined;
  if (prefix === 'global' || prefix in PROFILE_GEOGRAPHIES) return prefix;
  return undefined;
}

function passThrough(env: Record<string, string | undefined>): Record<string, string> {
  const known = new Set<string>([...Object.values(ENV), KEY_ITSELF]);
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (key.startsWith('AGENTPLANE_LLM_') && !known.has(key) && value) out[key] = value;
  }
  return out;
}

/** The agents' environment for these settings (lambdas/llm/config.ts reads it). */
export function llmEnvironment(settings: LlmSettings): Record<string, string> {
  const out: Record<string, string> = { ...settings.passThrough, [ENV.provider]: settings.provider, [ENV.model]: settings.model };
  if (settings.region) out[ENV.region] = settings.region;
  if (settings.baseUrl) out[ENV.baseUrl] = settings.baseUrl;
  if (settings.apiKeySecret) out[ENV.apiKeySecret] = settings.apiKeySecret;
  if (settings.apiKeySecretField) out[ENV.apiKeySecretField] = settings.apiKeySecretField;
  if (settings.apiKeyParameter) out[ENV.apiKeyParameter] = settings.apiKeyParameter;
  return out;
}

const nag = (rule: string) => `AwsSolutions::AwsSolutions-${rule}`;

/**
 * What the configured LLM needs of IAM, and nothing else: Bedrock's InvokeModel (Converse is authorized by it;
 * the agents do not stream) on the model, or on the inference profile and its foundation model in every region
 * the profile routes to, usable only through that profile; the key's secret or parameter for an
 * OpenAI-compatible endpoint. The offline provider needs nothing.
 */
export function grantLlm(fn: AgentplaneFunction, settings: LlmSettings): void {
  const partition = Aws.PARTITION;
  const account = Aws.ACCOUNT_ID;
  if (settings.provider === 'bedrock') {
    const region = settings.region ?? Aws.REGION;
    const model = settings.model;
    if (model.startsWith('arn:')) {
      fn.addToRolePolicy(new PolicyStatement({ actions: ['bedrock:InvokeModel'], resources: [model] }));
    } else if (settings.profileRegions) {
      const profileArn = `arn:${partition}:bedrock:${region}:${account}:inference-profile/${model}`;
      const foundation = model.slice(model.indexOf('.') + 1);
      fn.addToRolePolicy(new PolicyStatement({ actions: ['bedrock:InvokeModel'], resources: [profileArn] }));
      fn.addToRolePolicy(
        new PolicyStatement({
          actions: ['bedrock:InvokeModel'],
          resources: settings.profileRegions.map((r) => `arn:${partition}:bedrock:${r}::foundation-model/${foundation}`),
          conditions: { StringEquals: { 'bedrock:InferenceProfileArn': profileArn } },
        }),
      );
    } else {
      fn.addToRolePolicy(new PolicyStatement({ actions: ['bedrock:InvokeModel'], resources: [`arn:${partition}:bedrock:${region}::foundation-model/${model}`] }));
    }
  }
  if (settings.apiKeySecret) {
    const secret = settings.apiKeySecret;
    // A name matches its ARN only with the six random characters Secrets Manager appends.
    const secretArn = secret.startsWith('arn:') ? secret : `arn:${partition}:secretsmanager:${Aws.REGION}:${account}:secret:${secret}-??????`;
    fn.addToRolePolicy(new PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [secretArn] }));
    if (!secret.startsWith('arn:')) {
      acknowledge(fn.executionRole, [
        {
          id: nag(`IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${secret}-??????]`),
          reason: 'The configured API key secret by name: `-??????` matches only the random suffix Secrets Manager appends to its ARN.',
        },
      ]);
    }
  }
  if (settings.apiKeyParameter) {
    const parameter = settings.apiKeyParameter;
    const parameterArn = parameter.startsWith('arn:') ? parameter : `arn:${partition}:ssm:${Aws.REGION}:${account}:parameter/${parameter.replace(/^\//, '')}`;
    fn.addToRolePolicy(new PolicyStatement({ actions: ['ssm:GetParameter'], resources: [parameterArn] }));
  }
}
