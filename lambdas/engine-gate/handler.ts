import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { s3 } from '../aws/s3';
import { readJson, writeJson } from '../aws/s3-json';
import { requiredEnv } from '../aws/env';
import { EventStore } from '../aws/event-store';
import { RegistryStore } from '../aws/registry-store';
import { agentSelectedPayload, selectForStep } from '../aws/registry-selection';
import { StepStateStore } from '../aws/step-state';
import { logger } from '../edge/observability/logger';
import { defaultAdmission } from './admission';
import { runGate, type GateDeps, type GateEvent } from './gate';
import { present } from '../core/invariants';

const runsTable = requiredEnv('RUNS_TABLE');
const events = new EventStore({ tableName: requiredEnv('EVENTS_TABLE'), progress: false });
const registry = new RegistryStore({ tableName: requiredEnv('AGENTS_TABLE') });
const steps = new StepStateStore(runsTable);
const sfn = new SFNClient({});

export const deps: GateDeps = {
  admission: defaultAdmission(),
  async listObjects(bucket, prefix) {
    const out: Array<{ key: string; size: number }> = [];
    let ContinuationToken: string | undefined;
    do {
      const page = await s3().send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken }));
      for (const o of page.Contents ?? []) out.push({ key: present(o.Key, 'o.Key'), size: o.Size ?? 0 });
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
    return out;
  },
  readJson,
  writeJson,
  async select(stepId, capability, items) {
    const selection = await selectForStep(capability, items, { store: registry });
    return { chosen: selection.chosen, alternatives: selection.candidates.length - 1, event: agentSelectedPayload(stepId, selection) };
  },
  steps,
  async emit(runId, list) {
    await events.emitMany(runId, list);
  },
  async sendSuccess(taskToken, output) {
    await sfn.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) }));
  },
  async sendFailure(taskToken, error, cause) {
    await sfn.send(new SendTaskFailureCommand({ taskToken, error, cause }));
  },
  clock: Date.now,
  log: { warn: (message, extra) => { logger.warn(message, { ...extra }); }, error: (message, extra) => { logger.error(message, { ...extra }); } },
};

export async function handler(event: GateEvent): Promise<{ outcome: string }> {
  const result = await runGate(event, deps);
  if (result.outcome === 'failed') logger.warn('step refused by the gate', { runId: event.runId, stepId: event.stepId, error: result.error, cause: result.cause });
  return { outcome: result.outcome };
}
