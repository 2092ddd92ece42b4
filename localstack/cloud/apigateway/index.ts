/**
 * API Gateway emulation for the local cloud: a REST API (v1) and a WebSocket API (v2), each stood up on its own
 * loopback port from the resolved template. See docs/local-cloud-apigateway.md for what differs from AWS.
 */
export { startRestApi, mapProxyResult,  type RestApiHandle } from './rest';
export {
  startWebSocketApi,
  selectRouteKey,
  
  
  
  type WebSocketApiHandle,
} from './websocket';
export { evaluatePolicy } from './authorizer';
