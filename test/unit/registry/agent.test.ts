import { describe, expect, it } from 'vitest';
import {
  type AgentRegistrationInput,
  AgentRecordSchema,
  newAgentRecord,
  parseAgentRegistration,
  skillsOf,
} from '../../../lambdas/core/registry/agent';

const body: AgentRegistrationInput = {
  id: 'cobol-analyzer',
  name: 'COBOL analyzer',
  version: '1.2.0',
  description: 'Parses COBOL programs',
  functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:cobol-analyzer:live',
  capabilities: [
    { skill: 'cobol-analysis', input: 'cobol-source', output: 'cobol-analysis', constraints: { maxFileSizeBytes: 1_048_576 }, priority: 70 },
    { skill: 'dependency-mapping' },
  ],
  tags: ['cobol'],
};

describe('Function: parseAgentRegistration', () => {
  it('should accept a complete registration', () => {
    const result = parseAgentRegistration(body);
    expect(result).toEqual({ ok: true, registration: body });
  });

  it('should default tags to empty', () => {
    const { tags: _tags, ...rest } = body;
    const result = parseAgentRegistration(rest);
    expect(result.ok && result.registration.tags).toEqual([]);
  });

  it('should report every problem with its JSON path', () => {
    const result = parseAgentRegistration({
      ...body,
      id: 'Bad Id',
      functionArn: 'arn:aws:s3:::bucket',
      capabilities: [{ skill: 'x', constraints: { maxFileSize: 10 } }],
    });
    expect(result.ok).toBe(false);
    const paths = result.ok ? [] : result.issues.map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['$.id', '$.functionArn', '$.capabilities[0].constraints']));
  });

  it('should refuse no capabilities and duplicate capabilities', () => {
    expect(parseAgentRegistration({ ...body, capabilities: [] }).ok).toBe(false);
    const duplicate = parseAgentRegistration({ ...body, capabilities: [{ skill: 'a', input: 't' }, { skill: 'a', input: 't', priority: 1 }] });
    expect(duplicate).toMatchObject({ ok: false, issues: [{ path: '$.capabilities[1]', message: expect.stringContaining('duplicate') as unknown }] });
  });
});

describe('Function: newAgentRecord', () => {
  it('should build a valid active record with a closed circuit', () => {
    const registration = parseAgentRegistration(body);
    if (!registration.ok) throw new Error('fixture must be valid');
    const record = newAgentRecord(registration.registration, new Date('2026-03-01T00:00:00Z'), { registeredBy: 'tenant-a' });
    expect(AgentRecordSchema.parse(record)).toEqual(record);
    expect(record).toMatchObject({ status: 'active', builtIn: false, registeredBy: 'tenant-a', health: { status: 'Healthy' } });
    expect(record.circuit.state).toBe('closed');
  });

  it('should keep creation time, health and circuit on re-registration', () => {
    const registration = parseAgentRegistration(body);
    if (!registration.ok) throw new Error('fixture must be valid');
    const first = newAgentRecord(registration.registration, new Date('2026-03-01T00:00:00Z'));
    const degraded = { ...first, health: { status: 'Degraded' as const, reason: 'slow' } };
    const second = newAgentRecord({ ...registration.registration, version: '1.3.0' }, new Date('2026-03-02T00:00:00Z'), { previous: degraded });
    expect(second).toMatchObject({ version: '1.3.0', createdAt: first.createdAt, updatedAt: '2026-03-02T00:00:00.000Z', health: degraded.health });
  });
});

describe('Function: skillsOf', () => {
  it('should list each skill once, sorted', () => {
    expect(skillsOf({ capabilities: [{ skill: 'b' }, { skill: 'a' }, { skill: 'b', input: 'x' }] })).toEqual(['a', 'b']);
  });
});
