import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { dynamo } from './clients';
import type { StepState } from '../core/runs/model';
import { updateIf } from './conditions';

/**
 * Per-step state on the run record `{pk: 'RUN#<runId>', sk: 'META'}`, under `steps.<stepId>`, written by the
 * engine (gate and reporter) and read by `GET /runs/{id}`:
 * `{status, agentId, totalItems, succeeded, failed, tokens, costUsd, startedAt, endedAt, …}`.
 *
 * Fields are merged with SET on nested paths, so writers of different fields of one step (the engine, the
 * runs API's pause) never overwrite each other. A nested SET needs its parents to exist, so the first write
 * of a step (or of the run's first step) creates the map, conditionally, and a race between two creators
 * falls back to the merge. Every write is conditional on the run record existing: the engine never
 * creates a run.
 */

export type { StepState,  } from '../core/runs/model';

export const runKey = (runId: string) => ({ pk: `RUN#${runId}`, sk: 'META' });

export class RunNotFoundError extends Error {
  override readonly name = 'Agentplane.RunNotFound';
}

export class StepStateStore {
  private readonly client: DynamoDBDocumentClient;

  constructor(
    readonly tableName: string,
    client?: DynamoDBDocumentClient,
  ) {
    this.client = client ?? dynamo();
  }

  /** Merges `fields` into `steps.<stepId>` of the run record. */
  async merge(runId: string, stepId: string, fields: StepState): Promise<void> {
    const entries = Object.entries(fields).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return;
    const names: Record<string, string> = { '#steps': 'steps', '#step': stepId };
    const values: Record<string, unknown> = {};
    const sets = entries.map(([k, v], i) => {
      names[`#f${i}`] = k;
      values[`:f${i}`] = v;
      return `#steps.#step.#f${i} = :f${i}`;
    });
    for (let attempt = 0; attempt < 3; attempt++) {
      if (await this.updateIf(runId, `SET ${sets.join(', ')}`, 'attribute_exists(#steps.#step)', names, values)) return;
      // The step has no entry yet: create it whole, provided the steps map exists and nobody created it meanwhile.
      const create = { '#steps': 'steps', '#step': stepId };
      if (await this.updateIf(runId, 'SET #steps.#step = :step', 'attribute_exists(#steps) AND attribute_not_exists(#steps.#step)', create, { ':step': Object.fromEntries(entries) })) return;
      // No steps map yet (or the step appeared in between, which the next merge handles).
      if (!(await this.updateIf(runId, 'SET #steps = if_not_exists(#steps, :empty)', 'attribute_exists(pk)', { '#steps': 'steps' }, { ':empty': {} }))) {
        throw new RunNotFoundError(`run ${runId} has no run record`);
      }
    }
    throw new Error(`could not record step ${stepId} of run ${runId}: the run record keeps changing`);
  }

  /**
   * Counts `items` moved to `agentId` under `steps.<stepId>.fallbacks` (an atomic ADD). The first count of a step
   * creates the map, provided the step's entry exists (the gate writes it before any item runs).
   */
  async countFallbacks(runId: string, stepId: string, agentId: string, items: number): Promise<void> {
    // DynamoDB refuses names an expression does not use: the create goes without #agent.
    const names = { '#steps': 'steps', '#step': stepId, '#fallbacks': 'fallbacks' };
    const add = () =>
      this.updateIf(runId, 'ADD #steps.#step.#fallbacks.#agent :n', 'attribute_exists(#steps.#step.#fallbacks)', { ...names, '#agent': agentId }, { ':n': items });
    if (await add()) return;
    const first = { ':first': { [agentId]: items } };
    if (await this.updateIf(runId, 'SET #steps.#step.#fallbacks = :first', 'attribute_exists(#steps.#step) AND attribute_not_exists(#steps.#step.#fallbacks)', names, first)) return;
    // Created meanwhile by another release; or the step has no entry, which is not ours to create.
    if (!(await add())) throw new RunNotFoundError(`run ${runId} has no step ${stepId}`);
  }

  /** One conditional update of the run record: false when its condition does not hold. */
  private updateIf(runId: string, update: string, condition: string, names: Record<string, string>, values: Record<string, unknown>): Promise<boolean> {
    return updateIf(this.client, {
      TableName: this.tableName,
      Key: runKey(runId),
      UpdateExpression: update,
      ConditionExpression: condition,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    });
  }

  /** The recorded state of every step of a run (empty when the run has none yet). */
  async steps(runId: string): Promise<Record<string, StepState> | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: runKey(runId), ConsistentRead: true, ProjectionExpression: '#steps, pk', ExpressionAttributeNames: { '#steps': 'steps' } }),
    );
    if (!Item) return undefined;
    return (Item.steps as Record<string, StepState> | undefined) ?? {};
  }
}

/** `runs/<runId>/state/<stepId>/<name>`: the step's engine-owned area of the workspace (docs/engine.md). */
export const stepStateKey = (runId: string, stepId: string, name: string) => `runs/${runId}/state/${stepId}/${name}`;

/**
 * The reporter records a fan-out step's per-item outputs here (`[{key, source}]`, succeeded items only);
 * the gate of a step with `forEach: "<that step>"` reads its items from it.
 */
export const OUTPUTS_FILE = 'outputs.json';
