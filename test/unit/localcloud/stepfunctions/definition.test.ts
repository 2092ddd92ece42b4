import { describe, expect, it } from 'vitest';
import { compileDefinition, originalName, TOKEN_PLACEHOLDER } from '../../../../localstack/cloud/stepfunctions/definition';

describe('Function: compileDefinition', () => {
  it('should give repeated state names unique handler keys and keep the original names for the history', () => {
    const task = (fn: string) => ({ Type: 'Task' as const, Resource: `arn:aws:lambda:us-east-1:000000000000:function:${fn}`, End: true });
    const compiled = compileDefinition({
      StartAt: 'Both',
      States: {
        Both: {
          Type: 'Parallel',
          Branches: [
            { StartAt: 'Work', States: { Work: task('a') } },
            { StartAt: 'Work', States: { Work: task('b') } },
          ],
          End: true,
        },
      },
    });

    const keys = [...compiled.handlers.keys()];
    expect(keys).toHaveLength(2);
    expect(new Set(keys).size).toBe(2);
    expect(keys.map(originalName)).toEqual(['Work', 'Work']);
    const branches = (compiled.definition.States.Both as { Branches: { StartAt: string }[] }).Branches;
    expect(branches[1].StartAt).toBe(keys[1]);
    expect([...compiled.handlers.values()].map((s) => (s.kind === 'task' ? s.resource.split(':').at(-1) : ''))).toEqual(['a', 'b']);
  });

  it('should turn $$.Task.Token into a placeholder and take over Task timeouts', () => {
    const compiled = compileDefinition({
      StartAt: 'Ask',
      States: {
        Ask: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
          Parameters: { FunctionName: 'f', Payload: { 'token.$': '$$.Task.Token', 'msg.$': "States.Format('t={}', $$.Task.Token)" } },
          TimeoutSecondsPath: '$.timeout',
          HeartbeatSeconds: 60,
          End: true,
        },
      },
      TimeoutSeconds: 31_536_000,
    });

    // The compiled Task state: the token moved into an envelope the local invoker unwraps, the timeout taken over.
    const state = compiled.definition.States.Ask;
    if (state.Type !== 'Task') throw new Error(`Ask compiled to a ${state.Type} state`);
    const parameters = state.Parameters as { payload: { Payload: Record<string, unknown> }; [field: string]: unknown };
    expect(parameters.payload.Payload.token).toBe(TOKEN_PLACEHOLDER);
    expect(parameters.payload.Payload['msg.$']).toBe(`States.Format('t={}', '${TOKEN_PLACEHOLDER}')`);
    expect(parameters['timeoutSeconds.$']).toBe('$.timeout');
    expect(state.TimeoutSeconds).toBe(2_147_483);
    expect(state.HeartbeatSeconds).toBeUndefined();
    expect(compiled.handlers.get('Ask')).toMatchObject({ kind: 'task', heartbeatSeconds: 60, enveloped: true });
    expect(compiled.timeoutSeconds).toBe(31_536_000);
    expect(compiled.definition.TimeoutSeconds).toBeUndefined();
  });
});
