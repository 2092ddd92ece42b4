import { PutObjectCommand } from '@aws-sdk/client-s3';
import { setTimeout as sleep } from 'node:timers/promises';
import { AgentInput, runDelayAgent } from './delay-agent';
import { s3 } from '../shared/aws/s3';
import { parseBody } from '../shared/http/validation';

export const handler = async (event: unknown) => {
  const input = parseBody(AgentInput, event, 'agent input');
  return runDelayAgent(input, {
    put: async (key, body) => {
      await s3().send(new PutObjectCommand({ Bucket: input.workspace.bucket, Key: key, Body: body, ContentType: 'application/json' }));
    },
  }, (ms) => sleep(ms));
};
