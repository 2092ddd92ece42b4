/**
 * API Gateway emulation for the local cloud: a REST API (v1) and a WebSocket API (v2), each stood up on its own
 * loopback port from the resolved template. See docs/local-cloud-apigateway.md for what differs from AWS.
 */
export { startRestApi, mapProxyResult, type StartRestApiOptions, type RestApiHandle } from './rest';
export {
  startWebSocketApi,
  selectRouteKey,
  MAX_FRAME_BYTES,
  MAX_MESSAGE_BYTES,
  type StartWebSocketApiOptions,
  type WebSocketApiHandle,
} from './websocket';
export { evaluatePolicy } from './authorizer';
