import { describe, expect, it } from 'vitest';
import { http } from '../../support/target';
import type { DiscoverBody, HealthBody } from '../../support/api';
import { RegistryStore } from '../../../lambdas/aws/registry-store';
import { registryConfigFromEnv } from '../../../lambdas/aws/registry-config';
import { fallbackCandidate, selectForStep, agentSelectedPayload } from '../../../lambdas/aws/registry-selection';
import { agentCloud, eventually, uniqueSuffix } from './support';

/**
 * Two agents for one skill; one is made to fail through the runtime. The cool-down is whatever the cloud
 * was deployed with (AGENTPLANE_CIRCUIT_COOL_DOWN_MS at synth, 30 s by default): the test waits for the
 * retryAt the health endpoint reports.
 */
describe('Registry: health, circuit breaker and ranking with two agents for one skill', () => {
  const cloud = agentCloud();

  it('should push the failing agent to Degraded then Unhealthy, rank the other first, and try it again after the cool-down', async () => {
    const suffix = uniqueSuffix();
    const skill = `translate-${suffix}`;
    const flaky = `flaky-${suffix}`;
    const steady = `steady-${suffix}`;
    await cloud.register(flaky, skill);
    await cloud.register(steady, skill);
    const run = (agentId: string, keys: string[], config: Record<string, unknown> = {}) =>
      cloud.invoke(cloud.input(`run-${agentId}-${uniqueSuffix()}`, agentId, keys, config));
    const discover = () => http<DiscoverBody>('POST', '/agents/discover', { body: { requiredSkills: [skill] } }).then((r) => r.body);
    const health = (id: string) => http<HealthBody>('GET', `/agents/${id}/health`).then((r) => r.body);

    await run(steady, ['a', 'b', 'c', 'd', 'e']);
    // One failure in ten, then successes (the circuit stays closed): 10% errors is Degraded.
    await run(flaky, ['bad-0', ...Array.from({ length: 9 }, (_, i) => `ok-${i}`)], { failPattern: '^bad-' });
    expect(await health(flaky)).toMatchObject({ status: 'Degraded', reason: expect.stringMatching(/error rate 10% over the last 10 invocations/) as unknown });
    let found = await discover();
    expect(found.matches.map((m: { agentId: string }) => m.agentId)).toEqual([steady, flaky]);
    expect(found.matches[1].reasons.join(' | ')).toMatch(/Degraded: error rate 10%/);
    expect(found.matches[0].reasons.join(' | ')).toMatch(/success rate 100% over 5 recent invocations/);

    // A run of failures: Unhealthy by error rate, and the circuit opens.
    await run(flaky, Array.from({ length: 10 }, (_, i) => `bad-${i + 1}`), { failPattern: '^bad-' });
    const unhealthy = await health(flaky);
    expect(unhealthy.status).toBe('Unhealthy');
    expect(unhealthy.circuit).toMatchObject({ state: 'open', consecutiveFailures: 10 });
    expect(unhealthy.error).toMatch(/DiagnosticFailure: item bad-10 matches failPattern/);
    found = await discover();
    expect(found.matches.map((m: { agentId: string }) => m.agentId)).toEqual([steady]);
    const rejected = found.rejected.find((r: { agentId: string }) => r.agentId === flaky);
    expect(rejected!.reasons.join(' | ')).toMatch(/Unhealthy: circuit open after 10 consecutive failures/);

    // The engine's side: the same choice, and the fallback helper names the next candidate and why.
    // Same circuit settings as the deployed functions (the health endpoint reports the cool-down).
    const base = registryConfigFromEnv({});
    const store = new RegistryStore({ tableName: cloud.agentsTable, client: cloud.ddb, config: { ...base, circuit: { ...base.circuit, coolDownMs: unhealthy.circuit.coolDownMs } } });
    const selection = await selectForStep({ skill }, [], { store });
    expect(selection.chosen).toMatchObject({ agentId: steady, probe: false });
    expect(agentSelectedPayload('translate', selection)).toMatchObject({ stepId: 'translate', agentId: steady });
    expect(fallbackCandidate(selection, [steady])).toBeUndefined();

    // After the cool-down the flaky agent is eligible for one probe call, ranked behind the healthy one.
    const retryAt = Date.parse(unhealthy.circuit.retryAt!);
    await new Promise((r) => setTimeout(r, Math.max(0, retryAt - Date.now()) + 50));
    const probing = await eventually(() => health(flaky), (h) => h.status === 'Degraded', 5_000);
    expect(probing.reason).toMatch(/circuit half-open/);
    found = await discover();
    expect(found.matches.map((m: { agentId: string }) => m.agentId)).toEqual([steady, flaky]);
    expect(found.matches[1]).toMatchObject({ probe: true });
    expect(found.matches[1].reasons.join(' | ')).toMatch(/circuit cool-down elapsed: eligible for one probe call/);
    const later = await selectForStep({ skill }, [], { store });
    expect(fallbackCandidate(later, [steady])).toMatchObject({ agentId: flaky, alternatives: 0, candidates: [{ agentId: steady }, { agentId: flaky }] });

    // The probe: one claimant wins, and a success closes the circuit.
    const claims = await Promise.all([store.claimProbe(flaky), store.claimProbe(flaky), store.claimProbe(flaky)]);
    expect(claims.filter(Boolean)).toHaveLength(1);
    await run(flaky, ['ok-probe']);
    expect((await health(flaky)).circuit).toMatchObject({ state: 'closed', consecutiveFailures: 0 });
  });
});
