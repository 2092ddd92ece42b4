/**
 * The Amazon States Language as the emulator reads it (https://states-language.net/spec.html): the fields of each
 * state kind that the local cloud compiles, runs or rejects. Definitions are checked by asl-validator before they
 * are read through these types. Declared as type aliases (not interfaces) so that a state is also a JsonObject,
 * which the compiler's generic rewrites (every `*Path` field, every template) work on.
 */
import type { JsonObject, JsonValue } from './json';

type QueryLanguage = 'JSONPath' | 'JSONata';

/** A set of states with its entry point: the machine itself, a Parallel branch, a Map's ItemProcessor. */
export type StateScope = {
  StartAt: string;
  States: Record<string, State>;
  Comment?: string;
};

export type StateMachineDefinition = StateScope & {
  Version?: string;
  TimeoutSeconds?: number;
  QueryLanguage?: QueryLanguage;
};

/**
 * Fields every state may carry. `Assign`, `Arguments`, `Output` and `Credentials` are listed so that their
 * presence can be rejected: the local cloud does not support them.
 */
type CommonFields = {
  Comment?: string;
  QueryLanguage?: QueryLanguage;
  InputPath?: string | null;
  OutputPath?: string | null;
  Next?: string;
  End?: boolean;
  Assign?: JsonValue;
  Arguments?: JsonValue;
  Output?: JsonValue;
  Credentials?: JsonValue;
};

export type Retrier = {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  MaxAttempts?: number;
  BackoffRate?: number;
  MaxDelaySeconds?: number;
  JitterStrategy?: 'FULL' | 'NONE';
  Comment?: string;
};

export type Catcher = {
  ErrorEquals: string[];
  Next: string;
  ResultPath?: string | null;
  Comment?: string;
};

/** Fields of the states that produce a result and may retry or catch errors (Task, Map, Parallel). */
type ResultFields = {
  Parameters?: JsonValue;
  ResultSelector?: JsonObject;
  ResultPath?: string | null;
  Retry?: Retrier[];
  Catch?: Catcher[];
};

type TaskState = CommonFields &
  ResultFields & {
    Type: 'Task';
    Resource: string;
    TimeoutSeconds?: number;
    TimeoutSecondsPath?: string;
    HeartbeatSeconds?: number;
    HeartbeatSecondsPath?: string;
  };

type ParallelState = CommonFields &
  ResultFields & {
    Type: 'Parallel';
    Branches: StateScope[];
  };

type ProcessorConfig = {
  Mode?: 'INLINE' | 'DISTRIBUTED';
  ExecutionType?: 'STANDARD' | 'EXPRESS';
};

export type ItemProcessor = StateScope & { ProcessorConfig?: ProcessorConfig };

export type ReaderConfig = {
  InputType?: 'JSON' | 'JSONL' | 'CSV' | 'MANIFEST';
  CSVHeaderLocation?: 'FIRST_ROW' | 'GIVEN';
  CSVHeaders?: string[];
  CSVDelimiter?: 'COMMA' | 'PIPE' | 'SEMICOLON' | 'SPACE' | 'TAB';
  MaxItems?: number;
  MaxItemsPath?: string;
};

type ItemReader = {
  Resource: string;
  ReaderConfig?: ReaderConfig;
  Parameters?: JsonObject;
};

type ItemBatcher = {
  MaxItemsPerBatch?: number;
  MaxItemsPerBatchPath?: string;
  MaxInputBytesPerBatch?: number;
  MaxInputBytesPerBatchPath?: string;
  BatchInput?: JsonObject;
};

type ResultWriter = {
  Resource: string;
  Parameters?: JsonObject;
};

export type MapState = CommonFields &
  ResultFields & {
    Type: 'Map';
    ItemProcessor?: ItemProcessor;
    /** The legacy name of an inline Map's ItemProcessor. */
    Iterator?: StateScope;
    ItemsPath?: string | null;
    ItemSelector?: JsonObject;
    ItemReader?: ItemReader;
    ItemBatcher?: ItemBatcher;
    ResultWriter?: ResultWriter;
    MaxConcurrency?: number;
    MaxConcurrencyPath?: string;
    ToleratedFailurePercentage?: number;
    ToleratedFailurePercentagePath?: string;
    ToleratedFailureCount?: number;
    ToleratedFailureCountPath?: string;
    Label?: string;
  };

type StringOperator = 'StringEquals' | 'StringLessThan' | 'StringGreaterThan' | 'StringLessThanEquals' | 'StringGreaterThanEquals';
type NumericOperator = 'NumericEquals' | 'NumericLessThan' | 'NumericGreaterThan' | 'NumericLessThanEquals' | 'NumericGreaterThanEquals';
type TimestampOperator =
  | 'TimestampEquals'
  | 'TimestampLessThan'
  | 'TimestampGreaterThan'
  | 'TimestampLessThanEquals'
  | 'TimestampGreaterThanEquals';
type TypeTest = 'IsNull' | 'IsPresent' | 'IsNumeric' | 'IsString' | 'IsBoolean' | 'IsTimestamp';

/** Each comparison against a literal, and its `…Path` twin that compares against another field of the input. */
type Comparisons<Operator extends string, Literal> = { [K in Operator]?: Literal } & { [K in `${Operator}Path`]?: string };

/** A Choice rule: a comparison on `Variable`, or a combination (And/Or/Not) of nested rules; top-level rules carry Next. */
export type ChoiceRule = Comparisons<StringOperator | TimestampOperator, string> &
  Comparisons<NumericOperator, number> &
  Comparisons<'BooleanEquals', boolean> & { [K in TypeTest]?: boolean } & {
    Variable?: string;
    StringMatches?: string;
    And?: ChoiceRule[];
    Or?: ChoiceRule[];
    Not?: ChoiceRule;
    Next?: string;
    Comment?: string;
  };

type ChoiceState = CommonFields & {
  Type: 'Choice';
  Choices: ChoiceRule[];
  Default?: string;
};

type PassState = CommonFields & {
  Type: 'Pass';
  Result?: JsonValue;
  ResultPath?: string | null;
  Parameters?: JsonValue;
};

type WaitState = CommonFields & {
  Type: 'Wait';
  Seconds?: number;
  SecondsPath?: string;
  Timestamp?: string;
  TimestampPath?: string;
};

type SucceedState = CommonFields & { Type: 'Succeed' };

type FailState = CommonFields & {
  Type: 'Fail';
  Error?: string;
  ErrorPath?: string;
  Cause?: string;
  CausePath?: string;
};

export type State = TaskState | ParallelState | MapState | ChoiceState | PassState | WaitState | SucceedState | FailState;
