import { LlmConfigError } from './errors';

/** Where an API key comes from; called lazily, on the first LLM call of a provider instance. */
export type SecretFetcher = () => Promise<string>;

/** The two AWS reads, injectable so tests need no SDK client (and the adapter can be swapped). */
export interface SecretSources {
  secretsManager(secretId: string): Promise<string | undefined>;
  ssm(name: string): Promise<string | undefined>;
}

/** Real AWS reads, through the SDK clients (loaded on first use: local runs never touch them). */
const awsSecretSources: SecretSources = {
  async secretsManager(secretId) {
    const { SecretsManagerClient, GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
    const out = await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: secretId }));
    return out.SecretString ?? (out.SecretBinary ? Buffer.from(out.SecretBinary).toString('utf8') : undefined);
  },
  async ssm(name) {
    const { SSMClient, GetParameterCommand } = await import('@aws-sdk/client-ssm');
    const out = await new SSMClient({}).send(new GetParameterCommand({ Name: name, WithDecryption: true }));
    return out.Parameter?.Value;
  },
};

/**
 * A Secrets Manager secret holds either the bare key or JSON (`{"apiKey": "…"}`, the console's key/value
 * form); `field` picks the JSON property (default: apiKey, then api_key, then key).
 */
export function extractKey(value: string, field?: string): string | undefined {
  const trimmed = value.trim();
  if (!trimmed.startsWith('{')) return trimmed || undefined;
  try {
    const json = JSON.parse(trimmed) as Record<string, unknown>;
    for (const f of field ? [field] : ['apiKey', 'api_key', 'key']) if (typeof json[f] === 'string' && json[f]) return json[f];
  } catch {
    return trimmed;
  }
  return undefined;
}

export function secretFromSecretsManager(secretId: string, opts: { field?: string; sources?: SecretSources } = {}): SecretFetcher {
  const sources = opts.sources ?? awsSecretSources;
  return async () => {
    let value: string | undefined;
    try {
      value = await sources.secretsManager(secretId);
    } catch (e) {
      // The SDK's message names the secret, never its value; the name of the error is what matters.
      throw new LlmConfigError(`reading secret ${secretId} failed: ${errorName(e)}`);
    }
    const key = value === undefined ? undefined : extractKey(value, opts.field);
    if (!key) throw new LlmConfigError(`secret ${secretId} holds no API key${opts.field ? ` in field ${opts.field}` : ''}`);
    return key;
  };
}

export function secretFromSsm(name: string, opts: { sources?: SecretSources } = {}): SecretFetcher {
  const sources = opts.sources ?? awsSecretSources;
  return async () => {
    let value: string | undefined;
    try {
      value = await sources.ssm(name);
    } catch (e) {
      throw new LlmConfigError(`reading parameter ${name} failed: ${errorName(e)}`);
    }
    if (!value || !value.trim()) throw new LlmConfigError(`parameter ${name} holds no API key`);
    return value.trim();
  };
}

/** What a read threw, by name: an SDK error's message may quote the secret, its name never does. */
function errorName(e: unknown): string {
  return (e as { name?: string } | null | undefined)?.name ?? 'Error';
}
