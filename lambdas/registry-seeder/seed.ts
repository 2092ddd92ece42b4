import { parseAgentRegistration, type AgentRegistration } from '../core/registry/agent';

/**
 * The built-in agents' registrations, as the stack hands them to the seeder custom resource: one JSON
 * string property (CloudFormation turns every scalar property into a string, so a structure travels
 * safest as JSON), with the functions' ARNs resolved by CloudFormation inside it.
 */
export const AGENTS_PROPERTY = 'AgentsJson';
export const PHYSICAL_ID = 'agentplane-builtin-agents';

export interface CustomResourceEvent {
  RequestType: 'Create' | 'Update' | 'Delete';
  ResponseURL: string;
  StackId: string;
  RequestId: string;
  LogicalResourceId: string;
  ResourceType: string;
  PhysicalResourceId?: string;
  ResourceProperties: Record<string, unknown>;
  OldResourceProperties?: Record<string, unknown>;
}

function registrationsOf(properties: Record<string, unknown> | undefined): AgentRegistration[] {
  const raw = properties?.[AGENTS_PROPERTY];
  if (raw === undefined) return [];
  let parsed: unknown;
  try {
    parsed = typeof raw === 'string' ? JSON.parse(raw) : raw;
  } catch (error) {
    throw new Error(`${AGENTS_PROPERTY} is not JSON: ${(error as Error).message}`, { cause: error });
  }
  if (!Array.isArray(parsed)) throw new Error(`${AGENTS_PROPERTY} must be a JSON array of agent registrations`);
  return parsed.map((entry, i) => {
    const result = parseAgentRegistration(entry);
    if (!result.ok) throw new Error(`${AGENTS_PROPERTY}[${i}] is not a valid registration: ${result.issues.map((p) => `${p.path} ${p.message}`).join('; ')}`);
    return result.registration;
  });
}

export interface SeedPlan {
  register: AgentRegistration[];
  unregister: string[];
}

/** What a request changes: Create/Update register the listed agents and drop those an Update removed. */
export function planFor(event: CustomResourceEvent): SeedPlan {
  const current = registrationsOf(event.ResourceProperties);
  if (event.RequestType === 'Delete') return { register: [], unregister: current.map((a) => a.id) };
  const previous = event.RequestType === 'Update' ? registrationsOf(event.OldResourceProperties) : [];
  const kept = new Set(current.map((a) => a.id));
  return { register: current, unregister: previous.map((a) => a.id).filter((id) => !kept.has(id)) };
}
