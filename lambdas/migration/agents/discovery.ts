import { discoverInventory, type Inventory } from '../cobol/inventory';
import { LAYOUT } from './layout';
import { putJson, type MigrationWorkspace } from './workspace';

export interface DiscoveryResult {
  outputKey: string;
  inventory: Inventory;
}

/** cobol-discovery: classifies every input (program, copybook, JCL, unknown) → reports/inventory.json. */
export async function runDiscovery(ws: MigrationWorkspace): Promise<DiscoveryResult> {
  const keys = await ws.list(LAYOUT.inputs);
  const files = await Promise.all(
    keys.map(async (key) => {
      const body = await ws.get(key);
      // Bytes, not text: the inventory detects EBCDIC and invalid UTF-8 itself.
      return { key, content: body === undefined ? '' : typeof body === 'string' ? body : Buffer.from(body) };
    }),
  );
  const inventory = discoverInventory(files);
  const outputKey = await putJson(ws, LAYOUT.inventory, inventory);
  return { outputKey, inventory };
}
