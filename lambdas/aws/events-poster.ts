import { ApiGatewayManagementApiClient, GoneException, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import type { FramePoster } from './events-subscriptions';

/** PostToConnection through the stage's management endpoint (WEBSOCKET_CALLBACK_URL); 410 → 'gone'. */
export function managementPoster(endpoint: string, client = new ApiGatewayManagementApiClient({ endpoint })): FramePoster {
  return {
    async post(connectionId, data) {
      try {
        await client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from(data) }));
        return 'sent';
      } catch (error) {
        if (error instanceof GoneException || (error as { name?: string }).name === 'GoneException') return 'gone';
        throw error;
      }
    },
  };
}
