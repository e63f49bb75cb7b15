/**
 * One conformance suite, every transport: a factory that starts a device and opens CTAPHID clients to it
 * over the in-process memory transport or over UDP (port 0).
 */
import { startDevice, type StartDeviceOptions, type Device } from '../../src/device.ts';
import { connectUdp } from '../../transports/udp.ts';
import { CtapHidClient } from '../../src/client/ctaphid.ts';

export type TransportName = 'memory' | 'udp';
export const TRANSPORTS: TransportName[] = ['memory', 'udp'];

export interface Harness {
  device: Device;
  /** A new CTAPHID client (its own peer, its own channel). */
  client(): Promise<CtapHidClient>;
  close(): Promise<void>;
}

export async function openHarness(
  transport: TransportName,
  opts: Partial<StartDeviceOptions> = {},
): Promise<Harness> {
  const device = await startDevice({
    store: 'memory',
    ...opts,
    transport,
    ...(transport === 'udp' ? { host: '127.0.0.1', port: 0 } : {}),
  });
  const clients: CtapHidClient[] = [];
  return {
    device,
    async client() {
      const pipe =
        transport === 'udp' ? await connectUdp({ host: device.address!.host, port: device.address!.port }) : device.connect();
      const c = await CtapHidClient.open(pipe);
      clients.push(c);
      return c;
    },
    async close() {
      for (const c of clients) c.close();
      await device.close();
    },
  };
}
