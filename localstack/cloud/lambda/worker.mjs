// One Lambda execution environment: loads the function's bundle once (cold start) and serves one invocation at
// a time, like Lambda. Plain JS so it needs no TypeScript loader inside the worker.
import { parentPort, workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';

const { entryFile, handlerName, functionName, functionArn, memoryMb, logGroupName } = workerData;

let handler;
try {
  const mod = await import(pathToFileURL(entryFile).href);
  handler = mod[handlerName];
  if (typeof handler !== 'function') throw new Error(`${entryFile} exports no function ${handlerName}`);
  parentPort.postMessage({ type: 'ready' });
} catch (error) {
  parentPort.postMessage({
    type: 'init-error',
    errorType: 'Runtime.ImportModuleError',
    errorMessage: `${error?.name ?? 'Error'}: ${error?.message ?? String(error)}`,
  });
}

parentPort.on('message', async (message) => {
  if (message.type !== 'invoke') return;
  const { id, event, requestId, deadline } = message;
  const context = {
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: functionArn,
    memoryLimitInMB: String(memoryMb),
    awsRequestId: requestId,
    logGroupName,
    logStreamName: `local/${requestId}`,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done() {},
    fail() {},
    succeed() {},
  };
  try {
    const result = await handler(event, context);
    // Lambda serializes the result as JSON: undefined becomes null, class instances lose their prototypes.
    const payload = result === undefined ? null : JSON.parse(JSON.stringify(result));
    parentPort.postMessage({ type: 'result', id, ok: true, payload });
  } catch (error) {
    parentPort.postMessage({
      type: 'result',
      id,
      ok: false,
      errorType: error?.name && error.name !== 'Error' ? error.name : 'Error',
      errorMessage: String(error?.message ?? error),
      trace: String(error?.stack ?? '').split('\n'),
    });
  }
});
