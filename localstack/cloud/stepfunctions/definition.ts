/**
 * Turns an ASL definition into what aws-local-stepfunctions can run faithfully. The library keys Task handlers by
 * state name, leaves the Context Object (`$$`) mostly empty, gives every Task a 60 s default timeout, arms
 * `setTimeout` with durations that overflow past 24.8 days, and runs a Distributed Map as an inline one. So the
 * definition is rewritten before it runs:
 * - state names that repeat across scopes (Parallel branches, Map processors) are made unique, and the original
 *   names are kept for the history;
 * - every Task gets a Parameters envelope that carries its payload and its TimeoutSecondsPath/HeartbeatSecondsPath
 *   values, and its timeouts are taken over by the service (the library's own is set out of reach);
 * - `$$.Task.Token`, `$$.State.*` become placeholders or literals, and `$$.Execution.Input/StartTime` point at
 *   values the service supplies (the library overwrites those for every nested run);
 * - a Distributed Map becomes a Task whose local handler reads, batches, runs child executions and writes results.
 */
import { createRequire } from 'node:module';
import type { Catcher, ChoiceRule, ItemProcessor, MapState, ReaderConfig, Retrier, State, StateMachineDefinition, StateScope } from './asl';
import { parseJson, type JsonObject, type JsonValue } from './json';

export const TOKEN_PLACEHOLDER = '__LOCALSFN_TASK_TOKEN__';
const ENTERED_TIME_PLACEHOLDER = '__LOCALSFN_STATE_ENTERED_TIME__';
/** Largest whole number of seconds whose milliseconds still fit the 32-bit `setTimeout` delay. */
export const MAX_TIMER_SECONDS = 2_147_483;
const DISTRIBUTED_MAP_RESOURCE = 'arn:aws:states:::localcloud:distributedMap';

interface StateInfo {
  /** The name in the original definition. */
  name: string;
  /** The type in the original definition (a Distributed Map stays `Map`). */
  type: string;
}

export interface TaskSpec {
  kind: 'task';
  name: string;
  resource: string;
  /** Whether the handler receives `{payload, timeoutSeconds?, heartbeatSeconds?}` rather than the payload itself. */
  enveloped: boolean;
  timeoutSeconds?: number;
  heartbeatSeconds?: number;
  /**
   * Set when the Parameters read `$$.State.RetryCount` and the Task has retriers: the engine then retries it
   * itself and evaluates these Parameters once per attempt (see retry.ts); the handler receives
   * `{input, timeoutSeconds?, heartbeatSeconds?}`.
   */
  retried?: { retriers: Retrier[]; parameters: JsonObject };
}

export interface DistributedMapSpec {
  kind: 'distributedMap';
  name: string;
  label: string;
  readerResource?: string;
  readerConfig?: ReaderConfig;
  /** ItemSelector (or the legacy Parameters) after the `$$` rewrite; evaluated per item. */
  itemSelector?: JsonValue;
  batcher?: { maxItemsPerBatch?: number; maxInputBytesPerBatch?: number };
  maxConcurrency?: number;
  toleratedFailurePercentage?: number;
  toleratedFailureCount?: number;
  writerResource?: string;
  executionType: 'STANDARD' | 'EXPRESS';
  processor: CompiledMachine;
}

type HandlerSpec = TaskSpec | DistributedMapSpec;

export interface CompiledMachine {
  /** The definition handed to the library. */
  definition: StateMachineDefinition;
  /** Task handler specs by (unique) state name. */
  handlers: Map<string, HandlerSpec>;
  /** Every state by unique name → its original name and type. */
  states: Map<string, StateInfo>;
  /** Top-level TimeoutSeconds, enforced by the service. */
  timeoutSeconds?: number;
}

export class DefinitionError extends Error {
  override readonly name = 'DefinitionError';
}

const require = createRequire(import.meta.url);
const aslValidator = require('asl-validator') as (
  definition: unknown,
  options?: Record<string, unknown>,
) => { isValid: boolean; errors: Array<Record<string, unknown>> };

const SUPPORTED_RESOURCES: RegExp[] = [
  /^arn:aws[\w-]*:lambda:[^:]+:[^:]+:function:[^:]+(:[^:]+)?$/,
  /^arn:aws[\w-]*:states:::lambda:invoke(\.waitForTaskToken)?$/,
  /^arn:aws[\w-]*:states:::dynamodb:(getItem|putItem|updateItem|deleteItem)$/,
  /^arn:aws[\w-]*:states:::aws-sdk:dynamodb:(getItem|putItem|updateItem|deleteItem|query|scan)$/,
  /^arn:aws[\w-]*:states:::(aws-sdk:)?s3:(getObject|putObject)$/,
];

function isSupportedTaskResource(resource: string): boolean {
  return SUPPORTED_RESOURCES.some((re) => re.test(resource));
}

/** A field of a validator error as text (the validator reports strings; anything else is shown as JSON). */
function errorText(value: unknown, fallback: string): string {
  if (value === undefined || value === null) return fallback;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Parses and validates a definition string as CreateStateMachine does; throws DefinitionError with the reasons. */
export function parseDefinition(text: unknown): StateMachineDefinition {
  if (typeof text !== 'string') throw new DefinitionError('Definition must be a JSON string.');
  let definition: JsonValue;
  try {
    definition = parseJson(text);
  } catch (error) {
    throw new DefinitionError(`Invalid State Machine Definition: not JSON (${(error as Error).message})`, { cause: error });
  }
  const result = aslValidator(definition, { checkArn: true, checkPaths: true });
  if (!result.isValid) {
    const reasons = result.errors.map((e) => `${errorText(e['Error code'], '')}: ${errorText(e['Message'], JSON.stringify(e))}`);
    throw new DefinitionError(`Invalid State Machine Definition: ${reasons.join('; ')}`);
  }
  // The validator checked the definition against the States Language schema.
  return definition as StateMachineDefinition;
}

export function compileDefinition(definition: StateMachineDefinition): CompiledMachine {
  const source = structuredClone(definition);
  if (source.QueryLanguage === 'JSONata') {
    throw new DefinitionError('The local cloud does not support JSONata state machines (QueryLanguage: JSONata).');
  }
  renameDuplicates(source, new Set());
  const compiled: CompiledMachine = { definition: { StartAt: source.StartAt, States: {} }, handlers: new Map(), states: new Map() };
  compiled.definition = compileScope(source, compiled);
  if (typeof source.TimeoutSeconds === 'number') compiled.timeoutSeconds = source.TimeoutSeconds;
  return compiled;
}

// --- duplicate names -------------------------------------------------------------------------------------------

/** Internal names carry the original one after a marker the history strips away. */
const RENAME_MARKER = ' \u2063#';

function catchersOf(state: State): Catcher[] {
  return (state.Type === 'Task' || state.Type === 'Map' || state.Type === 'Parallel' ? state.Catch : undefined) ?? [];
}

function renameDuplicates(scope: StateScope, used: Set<string>): void {
  const renames = new Map<string, string>();
  const states: Record<string, State> = {};
  for (const [name, state] of Object.entries(scope.States)) {
    let unique = name;
    for (let n = 2; used.has(unique); n++) unique = `${name}${RENAME_MARKER}${n}`;
    used.add(unique);
    if (unique !== name) renames.set(name, unique);
    states[unique] = state;
  }
  const rename = (target: string) => renames.get(target) ?? target;
  if (renames.size > 0) {
    scope.StartAt = rename(scope.StartAt);
    for (const state of Object.values(states)) {
      if (state.Next !== undefined) state.Next = rename(state.Next);
      if (state.Type === 'Choice') {
        if (state.Default !== undefined) state.Default = rename(state.Default);
        for (const choice of state.Choices) if (choice.Next !== undefined) choice.Next = rename(choice.Next);
      }
      for (const catcher of catchersOf(state)) catcher.Next = rename(catcher.Next);
    }
  }
  scope.States = states;
  for (const state of Object.values(states)) {
    if (state.Type === 'Parallel') for (const branch of state.Branches) renameDuplicates(branch, used);
    // A Distributed Map's processor runs as separate child executions, so its names form a scope of their own.
    if (state.Type === 'Map' && !distributedProcessor(state)) {
      const processor = inlineProcessor(state);
      if (processor) renameDuplicates(processor, used);
    }
  }
}

export function originalName(internalName: string): string {
  const i = internalName.indexOf(RENAME_MARKER);
  return i < 0 ? internalName : internalName.slice(0, i);
}

/** The ItemProcessor of a Distributed Map, or undefined for an inline Map. */
function distributedProcessor(state: MapState): ItemProcessor | undefined {
  return state.ItemProcessor?.ProcessorConfig?.Mode === 'DISTRIBUTED' ? state.ItemProcessor : undefined;
}

function inlineProcessor(state: MapState): StateScope | undefined {
  return state.ItemProcessor ?? state.Iterator;
}

// --- scopes and states -----------------------------------------------------------------------------------------

function compileScope(scope: StateScope, compiled: CompiledMachine): StateScope {
  const states: Record<string, State> = {};
  for (const [internal, state] of Object.entries(scope.States)) {
    const name = originalName(internal);
    compiled.states.set(internal, { name, type: state.Type });
    states[internal] = compileState(internal, name, state, compiled);
  }
  return { StartAt: scope.StartAt, States: states };
}

const UNSUPPORTED_FIELDS = ['Assign', 'Arguments', 'Output', 'Credentials'];
const TEMPLATE_FIELDS = ['Parameters', 'ItemSelector', 'ResultSelector'];

function compileState(internal: string, name: string, state: State, compiled: CompiledMachine): State {
  for (const field of UNSUPPORTED_FIELDS) {
    if (field in state) throw new DefinitionError(`State '${name}': the local cloud does not support the field ${field}.`);
  }
  if (state.QueryLanguage === 'JSONata') {
    throw new DefinitionError(`State '${name}': the local cloud does not support JSONata (QueryLanguage: JSONata).`);
  }
  // The rewrites below work field by field on the state as plain JSON; each keeps the shape of the field it rewrites.
  const out: JsonObject = { ...state };
  delete out.QueryLanguage;
  for (const [key, value] of Object.entries(out)) {
    if (key.endsWith('Path') && key !== 'ResultPath' && typeof value === 'string') out[key] = rewritePath(value);
  }
  for (const key of TEMPLATE_FIELDS) {
    // Only a Task's Parameters reach a handler that can substitute placeholders; only a retried Task's see a
    // RetryCount other than 0.
    const taskParameters = state.Type === 'Task' && key === 'Parameters';
    const keepRetryCount = taskParameters && (state.Retry?.length ?? 0) > 0;
    if (key in out) out[key] = rewriteTemplate(out[key], name, taskParameters, keepRetryCount);
  }
  switch (state.Type) {
    case 'Task':
      return compileTask(internal, name, out, compiled) as State;
    case 'Choice':
      out.Choices = state.Choices.map((rule) => rewriteChoiceRule(rule));
      return out as State;
    case 'Parallel':
      out.Branches = state.Branches.map((branch) => compileScope(branch, compiled));
      return out as State;
    case 'Map': {
      const distributed = distributedProcessor(state);
      if (distributed) return compileDistributedMap(internal, name, state, distributed, out, compiled) as State;
      for (const key of ['ItemReader', 'ItemBatcher', 'ResultWriter']) {
        if (key in state) throw new DefinitionError(`State '${name}': ${key} requires a Distributed Map (ProcessorConfig.Mode DISTRIBUTED).`);
      }
      const processor = inlineProcessor(state);
      if (!processor) throw new DefinitionError(`State '${name}': a Map state needs an ItemProcessor.`);
      const compiledProcessor = compileScope(processor, compiled);
      delete out.Iterator;
      out.ItemProcessor = compiledProcessor;
      return out as State;
    }
    default:
      return out as State;
  }
}

function compileTask(internal: string, name: string, out: JsonObject, compiled: CompiledMachine): JsonObject {
  const resource = out.Resource;
  if (typeof resource !== 'string' || !isSupportedTaskResource(resource)) {
    throw new DefinitionError(
      `State '${name}': the local cloud does not support the Task resource ${JSON.stringify(resource)} ` +
        '(supported: Lambda functions, lambda:invoke[.waitForTaskToken], dynamodb:getItem/putItem/updateItem/deleteItem, s3:getObject/putObject).',
    );
  }
  const spec: TaskSpec = { kind: 'task', name, resource, enveloped: false };
  if (typeof out.TimeoutSeconds === 'number') spec.timeoutSeconds = out.TimeoutSeconds;
  if (typeof out.HeartbeatSeconds === 'number') spec.heartbeatSeconds = out.HeartbeatSeconds;
  const timeoutPath = typeof out.TimeoutSecondsPath === 'string' ? out.TimeoutSecondsPath : undefined;
  const heartbeatPath = typeof out.HeartbeatSecondsPath === 'string' ? out.HeartbeatSecondsPath : undefined;
  // The library must neither retry it nor evaluate its Parameters: the engine does both, per attempt. (A falsy
  // state input of such a Task fails, see below; no Task of the project's workflows has one.)
  const parameters = out.Parameters;
  if (Array.isArray(out.Retry) && isObject(parameters) && JSON.stringify(parameters).includes(RETRY_COUNT)) {
    spec.retried = { retriers: out.Retry as Retrier[], parameters };
    delete out.Retry;
  }
  // jsonpath-plus answers `$` of a falsy input (0, false, "") with nothing, so the state input is only wrapped
  // when there is something to carry beside it.
  if ('Parameters' in out || timeoutPath || heartbeatPath) {
    const envelope: JsonObject = spec.retried ? { 'input.$': '$' } : 'Parameters' in out ? { payload: out.Parameters } : { 'payload.$': '$' };
    if (timeoutPath) envelope['timeoutSeconds.$'] = timeoutPath;
    if (heartbeatPath) envelope['heartbeatSeconds.$'] = heartbeatPath;
    out.Parameters = envelope;
    spec.enveloped = true;
  }
  delete out.TimeoutSecondsPath;
  delete out.HeartbeatSeconds;
  delete out.HeartbeatSecondsPath;
  out.TimeoutSeconds = MAX_TIMER_SECONDS;
  compiled.handlers.set(internal, spec);
  return out;
}

function compileDistributedMap(
  internal: string,
  name: string,
  state: MapState,
  processor: ItemProcessor,
  out: JsonObject,
  compiled: CompiledMachine,
): JsonObject {
  const { ProcessorConfig: processorConfig, ...processorSource } = processor;
  const executionType = processorConfig?.ExecutionType === 'EXPRESS' ? 'EXPRESS' : 'STANDARD';
  const spec: DistributedMapSpec = {
    kind: 'distributedMap',
    name,
    label: typeof state.Label === 'string' ? state.Label : name.replace(/[^\w-]/g, '').slice(0, 40) || 'map',
    executionType,
    processor: compileDefinition(processorSource),
  };
  const envelope: JsonObject = { 'input.$': '$' };
  const reader = state.ItemReader;
  if (reader) {
    spec.readerResource = reader.Resource;
    spec.readerConfig = { ...(reader.ReaderConfig ?? {}) };
    if (!/^arn:aws[\w-]*:states:::s3:(getObject|listObjectsV2)$/.test(reader.Resource)) {
      throw new DefinitionError(`State '${name}': the local cloud's ItemReader supports s3:getObject and s3:listObjectsV2, not ${reader.Resource}.`);
    }
    envelope.reader = rewriteTemplate(reader.Parameters ?? {}, name);
    if (typeof reader.ReaderConfig?.MaxItemsPath === 'string') envelope['readerMaxItems.$'] = rewritePath(reader.ReaderConfig.MaxItemsPath);
  } else if (typeof state.ItemsPath === 'string') {
    envelope['items.$'] = rewritePath(state.ItemsPath);
  }
  const selector = state.ItemSelector ?? state.Parameters;
  if (selector !== undefined) spec.itemSelector = rewriteTemplate(selector, name);
  const batcher = state.ItemBatcher;
  if (batcher) {
    spec.batcher = {};
    if (typeof batcher.MaxItemsPerBatch === 'number') spec.batcher.maxItemsPerBatch = batcher.MaxItemsPerBatch;
    if (typeof batcher.MaxInputBytesPerBatch === 'number') spec.batcher.maxInputBytesPerBatch = batcher.MaxInputBytesPerBatch;
    if (typeof batcher.MaxItemsPerBatchPath === 'string') envelope['maxItemsPerBatch.$'] = rewritePath(batcher.MaxItemsPerBatchPath);
    if (typeof batcher.MaxInputBytesPerBatchPath === 'string') envelope['maxInputBytesPerBatch.$'] = rewritePath(batcher.MaxInputBytesPerBatchPath);
    if (batcher.BatchInput !== undefined) envelope.batchInput = rewriteTemplate(batcher.BatchInput, name);
  }
  if (typeof state.MaxConcurrency === 'number') spec.maxConcurrency = state.MaxConcurrency;
  if (typeof state.MaxConcurrencyPath === 'string') envelope['maxConcurrency.$'] = rewritePath(state.MaxConcurrencyPath);
  if (typeof state.ToleratedFailurePercentage === 'number') spec.toleratedFailurePercentage = state.ToleratedFailurePercentage;
  if (typeof state.ToleratedFailureCount === 'number') spec.toleratedFailureCount = state.ToleratedFailureCount;
  if (typeof state.ToleratedFailurePercentagePath === 'string') envelope['toleratedFailurePercentage.$'] = rewritePath(state.ToleratedFailurePercentagePath);
  if (typeof state.ToleratedFailureCountPath === 'string') envelope['toleratedFailureCount.$'] = rewritePath(state.ToleratedFailureCountPath);
  if (state.ResultWriter) {
    spec.writerResource = state.ResultWriter.Resource;
    if (!/^arn:aws[\w-]*:states:::s3:putObject$/.test(state.ResultWriter.Resource)) {
      throw new DefinitionError(`State '${name}': the local cloud's ResultWriter supports s3:putObject, not ${state.ResultWriter.Resource}.`);
    }
    envelope.writer = rewriteTemplate(state.ResultWriter.Parameters ?? {}, name);
  }
  compiled.handlers.set(internal, spec);
  const task: JsonObject = { Type: 'Task', Resource: DISTRIBUTED_MAP_RESOURCE, Parameters: envelope, TimeoutSeconds: MAX_TIMER_SECONDS };
  for (const key of ['Comment', 'InputPath', 'ResultSelector', 'ResultPath', 'OutputPath', 'Retry', 'Catch', 'Next', 'End']) {
    if (key in out) task[key] = out[key];
  }
  return task;
}

// --- Context Object rewrites -----------------------------------------------------------------------------------

const EXECUTION_FIELD = /\$\$\.Execution\.(Input|StartTime)(?=$|[.[,)\s])/g;

function rewritePath(path: string): string {
  return path.replace(EXECUTION_FIELD, (_m, field: string) => `$$.Execution.Local${field}`);
}

function intrinsicLiteral(value: string): string {
  return `'${value.replace(/[\\'{}]/g, (c) => `\\${c}`)}'`;
}

const RETRY_COUNT = '$$.State.RetryCount';

function isObject(value: JsonValue | undefined): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function rewriteIntrinsic(expression: string, stateName: string, inTask: boolean, keepRetryCount: boolean): string {
  const withTask = inTask
    ? rewritePath(expression)
        .replace(/\$\$\.Task\.Token/g, intrinsicLiteral(TOKEN_PLACEHOLDER))
        .replace(/\$\$\.State\.EnteredTime/g, intrinsicLiteral(ENTERED_TIME_PLACEHOLDER))
    : rewritePath(expression).replace(/\$\$\.State\.EnteredTime/g, '$$$$.Execution.LocalStartTime');
  const named = withTask.replace(/\$\$\.State\.Name/g, intrinsicLiteral(stateName));
  return keepRetryCount ? named : named.replace(/\$\$\.State\.RetryCount/g, '0');
}

/**
 * `inTask`: the template is a Task's payload, whose placeholders the handler replaces. Elsewhere
 * `$$.State.EnteredTime` falls back to the execution's start time. `keepRetryCount`: the Task has retriers, so
 * `$$.State.RetryCount` stays for the engine to supply per attempt; elsewhere it is 0.
 */
function rewriteTemplate(template: JsonValue | undefined, stateName: string, inTask = false, keepRetryCount = false): JsonValue | undefined {
  if (Array.isArray(template)) return template.map((v) => rewriteTemplate(v, stateName, inTask, keepRetryCount) ?? null);
  if (template === null || typeof template !== 'object') return template;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(template)) {
    if (!key.endsWith('.$') || typeof value !== 'string') {
      out[key] = rewriteTemplate(value, stateName, inTask, keepRetryCount);
      continue;
    }
    const base = key.slice(0, -2);
    if (value === '$$.Task.Token' && inTask) out[base] = TOKEN_PLACEHOLDER;
    else if (value === '$$.State.Name') out[base] = stateName;
    else if (value === '$$.State.EnteredTime') {
      if (inTask) out[base] = ENTERED_TIME_PLACEHOLDER;
      else out[key] = '$$.Execution.LocalStartTime';
    } else if (value === RETRY_COUNT && !keepRetryCount) out[base] = 0;
    else if (value.startsWith('$')) out[key] = rewritePath(value);
    else out[key] = rewriteIntrinsic(value, stateName, inTask, keepRetryCount);
  }
  return out;
}

function rewriteChoiceRule(rule: ChoiceRule): ChoiceRule {
  const out: JsonObject = { ...rule };
  for (const [key, value] of Object.entries(rule)) {
    if ((key === 'Variable' || key.endsWith('Path')) && typeof value === 'string') out[key] = rewritePath(value);
  }
  if (Array.isArray(rule.And)) out.And = rule.And.map(rewriteChoiceRule);
  if (Array.isArray(rule.Or)) out.Or = rule.Or.map(rewriteChoiceRule);
  if (rule.Not) out.Not = rewriteChoiceRule(rule.Not);
  return out;
}

/** Replaces the placeholders a Task's payload may carry, in whole strings and inside intrinsic results. */
export function substitutePlaceholders(value: JsonValue, token: string, enteredTime: string): JsonValue {
  if (typeof value === 'string') {
    if (!value.includes('__LOCALSFN_')) return value;
    return value.split(TOKEN_PLACEHOLDER).join(token).split(ENTERED_TIME_PLACEHOLDER).join(enteredTime);
  }
  if (Array.isArray(value)) return value.map((v) => substitutePlaceholders(v, token, enteredTime));
  if (value !== null && typeof value === 'object') {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value)) out[k] = v === undefined ? v : substitutePlaceholders(v, token, enteredTime);
    return out;
  }
  return value;
}

export function usesTaskToken(value: JsonValue | undefined): boolean {
  return JSON.stringify(value ?? null).includes(TOKEN_PLACEHOLDER);
}
