import { readJson, writeJson } from '../aws/s3-json';
import { requiredEnv } from '../aws/env';
import { EventStore } from '../aws/event-store';
import { StepStateStore } from '../aws/step-state';
import { report, type ReporterDeps, type ReporterEvent } from './reporter';

const events = new EventStore({ tableName: requiredEnv('EVENTS_TABLE'), progress: false });

export const deps: ReporterDeps = {
  bucket: requiredEnv('WORKSPACE_BUCKET'),
  readJson,
  writeJson,
  steps: new StepStateStore(requiredEnv('RUNS_TABLE')),
  async emit(runId, list) {
    await events.emitMany(runId, list);
  },
  ledger: {
    read: (runId) => events.spend(runId),
    addOnce: (runId, mark, spend) => events.addSpendOnce(runId, mark, spend),
  },
  clock: Date.now,
};

/** Its return value is ignored by the machine; Agentplane.StepFailed thrown here fails the step. */
export async function handler(event: ReporterEvent): Promise<{ stepId: string; status: string }> {
  await report(event, deps);
  return { stepId: event.stepId, status: event.status };
}
