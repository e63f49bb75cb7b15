import { describe, expect, it } from 'vitest';
import * as vfido from './index.ts';

describe('public API', () => {
  it('starts an in-process key and talks CTAP to it through the barrel only', async () => {
    const device = await vfido.startDevice({ transport: 'memory', store: 'memory' });
    try {
      const client = await vfido.CtapHidClient.open(device.connect());
      const r = await client.cbor(vfido.CtapCommand.authenticatorGetInfo);
      expect(vfido.statusName(r.status)).toBe('CTAP2_OK');
      client.close();
    } finally {
      await device.close();
    }
  });
});
