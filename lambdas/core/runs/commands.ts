import { ConflictError, NotFoundError } from '../errors';
import { cancelRun, pauseRun, resumeRun, setConcurrency, type CommandResult, type ControlDeps } from './control';
import { commandConflict, type RunCommand, type RunRecord } from './model';
import { runPrefix } from './keys';

/**
 * Run commands, the same for `POST /runs/{id}/commands` and the WebSocket's `runs.command`. Every command is
 * idempotent by nature (a second pause of a paused run changes nothing), and the transports add
 * Idempotency-Key on top so that a retry gets the first answer.
 */
export interface CommandDeps extends ControlDeps {
  store: ControlDeps['store'];
  startExecution(input: { stateMachineArn: string; name: string; input: string }): Promise<{ executionArn: string; startDate: string }>;
  bucket: string;
}

export async function executeCommand(deps: CommandDeps, tenant: string, runId: string, command: RunCommand): Promise<CommandResult & { runId: string; command: string }> {
  const run = await deps.store.get(runId);
  if (!run || run.tenant !== tenant) throw new NotFoundError(`Run ${runId} not found`);
  const conflict = commandConflict(command.type, run.status);
  if (conflict) throw new ConflictError(`Cannot ${command.type} run ${runId}: ${conflict}`, { status: run.status });
  let result: CommandResult;
  switch (command.type) {
    case 'pause':
      result = await pauseRun(deps, run, command.reason);
      break;
    case 'resume':
      result = await resumeRun(deps, run);
      break;
    case 'cancel':
      result = await cancelRun(deps, run, command.reason);
      break;
    case 'setConcurrency':
      result = await setConcurrency(deps, run, command.maxConcurrency);
      break;
    case 'start':
      result = await startRun(deps, run);
      break;
  }
  return { runId, command: command.type, ...result };
}

/** The execution input of docs/engine.md. */
function executionInput(run: RunRecord, bucket: string): string {
  return JSON.stringify({
    runId: run.runId,
    tenant: run.tenant,
    workflowId: run.workflowId,
    workflowVersion: run.workflowVersion,
    parameters: run.parameters,
    workspace: { bucket, prefix: runPrefix(run.runId) },
  });
}

/**
 * QUEUED -> STARTING -> StartExecution (named after the run, so a retried start cannot start a second one:
 * Step Functions answers the same execution for the same name and input) -> RunStarted.
 */
export async function startRun(deps: CommandDeps, run: RunRecord): Promise<CommandResult> {
  if (run.status === 'QUEUED') {
    const moved = await deps.store.transition(run.runId, ['QUEUED'], 'STARTING');
    if (!moved) {
      const now = await deps.store.get(run.runId);
      return { status: now?.status ?? run.status, accepted: true };
    }
  } else if (run.status !== 'STARTING') {
    return { status: run.status, accepted: true };
  }
  let started: { executionArn: string; startDate: string };
  try {
    started = await deps.startExecution({ stateMachineArn: run.stateMachineVersionArn, name: run.runId, input: executionInput(run, deps.bucket) });
  } catch (error) {
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    const failed = await deps.store.transition(run.runId, ['STARTING'], 'FAILED', {
      endedAt: new Date(deps.clock()).toISOString(),
      error: { type: 'Agentplane.StartFailed', message: message.slice(0, 2_000) },
    });
    if (failed) await deps.events.emit(run.runId, 'RunFailed', { error: { type: 'Agentplane.StartFailed', message: message.slice(0, 2_000) } });
    throw error;
  }
  const running = await deps.store.transition(run.runId, ['STARTING'], 'RUNNING', { executionArn: started.executionArn, startedAt: started.startDate });
  // Paused or cancelled while the execution was starting: keep that status, record the execution.
  if (!running) await deps.store.setFields(run.runId, { executionArn: started.executionArn, startedAt: started.startDate });
  await deps.events.emit(run.runId, 'RunStarted', { executionArn: started.executionArn });
  const now = await deps.store.get(run.runId);
  return { status: now?.status ?? 'STARTING', accepted: true, executionArn: started.executionArn };
}
