import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { target } from '../../support/target';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

/** A function of the local cloud by the start of its logical id (e.g. `RunsSweeper`). */
function functionName(prefix: string): string {
  const fns = target().resources!.functions;
  const key = Object.keys(fns).find((k) => k.startsWith(prefix));
  if (!key) throw new Error(`no function ${prefix}`);
  return fns[key];
}

/** Invokes the function and answers its result, as the type the caller knows it to be. */
export async function invoke<T = unknown>(prefix: string, payload: unknown): Promise<T> {
  const t = target();
  const lambda = new LambdaClient({ endpoint: t.endpoints!.lambda, region: t.region, credentials });
  const out = await lambda.send(new InvokeCommand({ FunctionName: functionName(prefix), Payload: Buffer.from(JSON.stringify(payload)) }));
  const body = JSON.parse(Buffer.from(out.Payload!).toString('utf8')) as unknown;
  if (out.FunctionError) throw new Error(`${prefix} failed: ${JSON.stringify(body)}`);
  return body as T;
}
