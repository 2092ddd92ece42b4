import { UpdateCommand, type DynamoDBDocumentClient, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';

/**
 * Conditional writes are how the stores decide races; a refused condition is an answer, not an error.
 */

const nameOf = (error: unknown) => (error as { name?: string } | undefined)?.name;

/** A write refused by its ConditionExpression (or a transaction cancelled because one of its conditions failed). */
export function isConditionFailure(error: unknown): boolean {
  const name = nameOf(error);
  return name === 'ConditionalCheckFailedException' || (name === 'TransactionCanceledException' && /ConditionalCheckFailed/.test((error as Error).message));
}

/** Any refused commit, a conflicting concurrent transaction included: what optimistic writers retry on. */
export function isCommitRefused(error: unknown): boolean {
  const name = nameOf(error);
  return name === 'ConditionalCheckFailedException' || name === 'TransactionCanceledException';
}

/** One conditional UpdateItem: true when it applied, false when its condition did not hold. */
export async function updateIf(client: DynamoDBDocumentClient, input: UpdateCommandInput & { ConditionExpression: string }): Promise<boolean> {
  try {
    await client.send(new UpdateCommand(input));
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}
