import WebSocket from 'ws';
import { percentile } from './stats';
import type { LocalCloudConfig } from '../localstack/cloud/local-cloud';

interface Row {
  name: string;
  value: number;
  unit: string;
}

async function timeMany(n: number, fn: () => Promise<void>): Promise<number[]> {
  await fn(); // warm: cold starts are measured by local.start, not here
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    samples.push(performance.now() - t);
  }
  return samples;
}

const summarize = (name: string, samples: number[]): Row[] => [
  { name: `${name} p50`, value: percentile(samples, 50), unit: 'ms' },
  { name: `${name} p99`, value: percentile(samples, 99), unit: 'ms' },
];

/** Empty round trips through the emulated gateways: what every API call pays before doing any work. */
export async function measureRoundTrips(config: LocalCloudConfig, n: number): Promise<Row[]> {
  const health = await timeMany(n, async () => {
    const r = await fetch(`${config.restUrl}/health`);
    await r.text();
    if (r.status !== 200) throw new Error(`health ${r.status}`);
  });
  const authed = await timeMany(n, async () => {
    const r = await fetch(`${config.restUrl}/tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${config.token}`, 'content-type': 'application/json' },
      body: '{"tenant":"Bad Tenant"}',
    });
    await r.text();
    if (r.status !== 400) throw new Error(`tokens ${r.status}`);
  });
  const ws = new WebSocket(`${config.wsUrl}?token=${encodeURIComponent(config.token)}`);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  let seq = 0;
  const ping = await timeMany(n, () => {
    const id = `b${seq++}`;
    return new Promise<void>((resolve) => {
      const onMessage = (data: WebSocket.RawData) => {
        // ws's default binaryType ('nodebuffer') hands every message over as one Buffer.
        if ((JSON.parse((data as Buffer).toString()) as { id?: unknown }).id === id) {
          ws.off('message', onMessage);
          resolve();
        }
      };
      ws.on('message', onMessage);
      ws.send(JSON.stringify({ type: 'req', id, method: 'ping', params: {} }));
    });
  });
  ws.close();
  return [
    ...summarize('rest.health round trip', health),
    ...summarize('rest.authorized round trip (400 path)', authed),
    ...summarize('ws.ping round trip', ping),
  ];
}
