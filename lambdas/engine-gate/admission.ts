/**
 * When a step may start. The gate asks before doing any work for the step (lambdas/engine-gate/gate.ts).
 *
 * The runs issue's policy (lambdas/core/runs/control.ts, `admitStep`):
 * - a paused run: the event (and so its task token) is parked on the run and `{admit: false}` returned; the
 *   `resume` command invokes the gate again with the same event, which asks again and, once admitted, does
 *   the step's work and answers the token. The execution waits on the token without timeout; nothing polls.
 * - a cancelled or ended run: the token is failed with `Agentplane.Cancelled` here, and `{admit: false}`.
 * - otherwise `{admit: true}`, with a fan-out step's maxConcurrency capped by the run's current limit
 *   (setConcurrency); the per-item semaphore enforces the limit within the step as well.
 */
import type { AdmissionPolicy } from './gate';
import { requiredEnv } from '../aws/env';
import { runDepsFromEnv } from '../aws/run-store';
import { admitStep, type ControlDeps } from '../core/runs/control';

export const admitNow: AdmissionPolicy = {
  decide: () => Promise.resolve({ admit: true }),
};

/** The run-control policy on the given dependencies (tests pass fakes). */
function runControlAdmission(deps: ControlDeps): AdmissionPolicy {
  return {
    decide: (event) =>
      admitStep(deps, {
        taskToken: event.taskToken,
        runId: event.runId,
        stepId: event.stepId,
        fanOut: event.step.forEach !== undefined,
        ...(event.step.maxConcurrency !== undefined ? { maxConcurrency: event.step.maxConcurrency } : {}),
        event: event as unknown as Record<string, unknown>,
      }),
  };
}

let policy: AdmissionPolicy | undefined;

export function defaultAdmission(): AdmissionPolicy {
  // Built on first use: the gate's unit tests import this module without the run-control environment.
  return {
    decide(event) {
      policy ??= runControlAdmission(
        runDepsFromEnv({
          runsTable: requiredEnv('RUNS_TABLE'),
          eventsTable: requiredEnv('EVENTS_TABLE'),
          bucket: requiredEnv('WORKSPACE_BUCKET'),
          ...(process.env.GATE_FUNCTION_ARN ? { gateFunction: process.env.GATE_FUNCTION_ARN } : {}),
        }),
      );
      return policy.decide(event);
    },
  };
}
