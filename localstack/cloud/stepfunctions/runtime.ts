/** Records and in-memory runtime state of executions. */
import type { CompiledMachine } from './definition';
import { executionClosedError } from './errors';
import type { JsonObject } from './json';

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/** What is persisted of an execution (dates in epoch milliseconds). */
export interface ExecutionRecord {
  executionArn: string;
  stateMachineArn: string;
  stateMachineVersionArn?: string;
  name: string;
  type: 'STANDARD' | 'EXPRESS';
  roleArn: string;
  status: ExecutionStatus;
  input: string;
  output?: string;
  error?: string;
  cause?: string;
  startDate: number;
  stopDate?: number;
  historyEventCount: number;
  /** Set on the child executions of a Distributed Map. */
  mapRunArn?: string;
  parentExecutionArn?: string;
}

export interface HistoryEvent {
  id: number;
  previousEventId: number;
  timestamp: number;
  type: string;
  detailsKey?: string;
  details?: JsonObject;
}

export class ExecutionRuntime {
  readonly history: HistoryEvent[] = [];
  /** True once the execution reached a terminal status; nothing new may start after that. */
  closed = false;
  abortLibrary?: () => void;
  readonly timers = new Set<NodeJS.Timeout>();
  readonly children = new Set<ExecutionRuntime>();
  readonly tokens = new Set<string>();
  readonly done: Promise<void>;
  private resolveDone!: () => void;

  constructor(
    readonly record: ExecutionRecord,
    readonly compiled: CompiledMachine,
    readonly parent?: ExecutionRuntime,
  ) {
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
  }

  /**
   * The library's abort does not stop a running Map, so every Task handler checks this before starting: a closed
   * execution, or one whose Distributed Map parent is closed, starts nothing new.
   */
  get cancelled(): boolean {
    return this.closed || (this.parent?.cancelled ?? false);
  }

  /**
   * Throws into the running state once the execution is cancelled. A method rather than a check at the call
   * site: the status changes while a state awaits, which a narrowed `cancelled` would not show.
   */
  throwIfCancelled(): void {
    if (this.cancelled) throw executionClosedError();
  }

  /** `cancelled` read as a call, for the same reason: after an await, where a check before it may have narrowed it. */
  isCancelled(): boolean {
    return this.cancelled;
  }

  markDone(): void {
    this.resolveDone();
  }

  clearTimers(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
