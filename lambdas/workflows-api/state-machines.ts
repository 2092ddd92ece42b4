import {
  CreateStateMachineCommand,
  PublishStateMachineVersionCommand,
  TagResourceCommand,
  UpdateStateMachineCommand,
  type LoggingConfiguration,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { present } from '../core/invariants';

/**
 * Creates or updates a workflow's state machine and publishes the version a run pins. Create and update
 * both carry `publish: true`, so the version published is the revision this call wrote even when two
 * registrations of one workflow race (a separate Publish could publish the other's definition).
 */

interface StateMachineDeployment {
  stateMachineArn: string;
  stateMachineVersionArn: string;
}

export interface StateMachines {
  /** `exists`: the workflow has versions, so its machine most likely exists (update first, create if it does not). */
  deploy(input: { name: string; definition: string; description: string; exists?: boolean; tags?: Record<string, string> }): Promise<StateMachineDeployment>;
}

export interface SfnStateMachinesOptions {
  client: SFNClient;
  roleArn: string;
  /** `arn:<partition>:states:<region>:<account>:stateMachine:` — an existing machine's ARN is built, not looked up. */
  arnPrefix: string;
  logGroupArn?: string;
}

/** Step Functions refused the definition: a compiler bug or a limit, answered as the definition's problem. */
export class DefinitionRejectedError extends Error {
  override readonly name = 'DefinitionRejectedError';
}

export function sfnStateMachines(options: SfnStateMachinesOptions): StateMachines {
  const loggingConfiguration: LoggingConfiguration | undefined = options.logGroupArn
    ? { level: 'ERROR', includeExecutionData: false, destinations: [{ cloudWatchLogsLogGroup: { logGroupArn: options.logGroupArn } }] }
    : undefined;
  const common = {
    roleArn: options.roleArn,
    ...(loggingConfiguration ? { loggingConfiguration } : {}),
    tracingConfiguration: { enabled: true },
  };
  return {
    async deploy({ name, definition, description, exists, tags = {} }) {
      const stateMachineArn = `${options.arnPrefix}${name}`;
      const versionDescription = description.slice(0, 256);
      const tagList = Object.entries(tags).map(([key, value]) => ({ key, value }));
      const update = async () => {
        const updated = await options.client.send(
          new UpdateStateMachineCommand({ stateMachineArn, definition, publish: true, versionDescription, ...common }),
        );
        // Update carries no tags: a machine created before they existed gets them now (TagResource is idempotent).
        if (tagList.length > 0) await options.client.send(new TagResourceCommand({ resourceArn: stateMachineArn, tags: tagList }));
        return { stateMachineArn, stateMachineVersionArn: present(updated.stateMachineVersionArn, 'updated.stateMachineVersionArn') };
      };
      const create = async () => {
        const created = await options.client.send(
          new CreateStateMachineCommand({ name, definition, type: 'STANDARD', publish: true, versionDescription, ...common, ...(tagList.length > 0 ? { tags: tagList } : {}) }),
        );
        if (created.stateMachineVersionArn) return { stateMachineArn: present(created.stateMachineArn, 'created.stateMachineArn'), stateMachineVersionArn: created.stateMachineVersionArn };
        // An identical machine already existed: its current revision is what this registration describes.
        const published = await options.client.send(new PublishStateMachineVersionCommand({ stateMachineArn: present(created.stateMachineArn, 'created.stateMachineArn'), description: versionDescription }));
        return { stateMachineArn: present(created.stateMachineArn, 'created.stateMachineArn'), stateMachineVersionArn: present(published.stateMachineVersionArn, 'published.stateMachineVersionArn') };
      };
      const nameOf = (error: unknown) => (error as { name?: string }).name;
      try {
        if (exists) {
          try {
            return await update();
          } catch (error) {
            if (nameOf(error) !== 'StateMachineDoesNotExist') throw error;
          }
        }
        try {
          return await create();
        } catch (error) {
          // A concurrent first registration created it meanwhile.
          if (nameOf(error) !== 'StateMachineAlreadyExists') throw error;
        }
        return await update();
      } catch (error) {
        const errorName = (error as { name?: string }).name;
        if (errorName === 'InvalidDefinition' || errorName === 'StateMachineTypeNotSupported') {
          throw new DefinitionRejectedError(`Step Functions refused the compiled machine: ${(error as Error).message}`);
        }
        throw error;
      }
    },
  };
}
