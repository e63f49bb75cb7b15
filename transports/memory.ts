/**
 * In-process transport: one device, any number of clients, no sockets. Each `connect()` is its own
 * peer (like a separate process opening the HID device). Reports are copied and delivered in order on a
 * microtask (one for all the reports sent before it runs), so ordering is like a wire's and neither side
 * is re-entered from inside its own send().
 */
import type { ReportTransport } from './types.ts';
import { HID_REPORT_SIZE } from '../ctap/constants/commands.ts';

/** The client end of a transport: what a CTAPHID client (src/client/ctaphid.ts) reads and writes. */
export interface ClientPipe {
  send(report: Uint8Array): void;
  onReport(handler: (report: Uint8Array) => void): void;
  close(): void;
}

export interface MemoryTransport {
  device: ReportTransport;
  /** A new client pipe with its own peer id. */
  connect(): ClientPipe;
}

function checkReport(report: Uint8Array, who: string): Uint8Array {
  if (report.length !== HID_REPORT_SIZE) {
    throw new RangeError(`${who}: a HID report is ${HID_REPORT_SIZE} bytes, got ${report.length}`);
  }
  return new Uint8Array(report);
}

/** A report on its way: to the device (from `peer`) or to the client `peer`. */
interface Delivery {
  toDevice: boolean;
  report: Uint8Array;
  peer: string;
}

export function createMemoryTransport(): MemoryTransport {
  let deviceHandler: ((report: Uint8Array, peer: string) => void) | undefined;
  const clients = new Map<string, (report: Uint8Array) => void>();
  let nextPeer = 1;
  let closed = false;

  // Reports in flight, both directions, in the order they were sent. One microtask delivers all the reports
  // sent before it runs (a message's reports are sent in one go); reports sent while it delivers wait for the
  // next one, so no side is ever re-entered from inside its own send().
  let inFlight: Delivery[] = [];
  let scheduled = false;
  const deliver = (): void => {
    scheduled = false;
    const batch = inFlight;
    inFlight = [];
    for (const d of batch) {
      try {
        if (d.toDevice) {
          if (!closed) deviceHandler?.(d.report, d.peer);
        } else {
          // A report to a client that went away is lost, as on a real bus.
          clients.get(d.peer)?.(d.report);
        }
      } catch (e) {
        // As if each report had its own microtask: a throwing handler does not cost the others their delivery.
        queueMicrotask(() => {
          throw e;
        });
      }
    }
  };
  const post = (d: Delivery): void => {
    inFlight.push(d);
    if (!scheduled) {
      scheduled = true;
      queueMicrotask(deliver);
    }
  };

  const device: ReportTransport = {
    onReport(handler) {
      deviceHandler = handler;
    },
    send(report, peer) {
      const copy = checkReport(report, 'memory transport send');
      if (closed) return;
      post({ toDevice: false, report: copy, peer });
    },
    async close() {
      closed = true;
      clients.clear();
    },
  };

  function connect(): ClientPipe {
    if (closed) throw new Error('memory transport: device is closed');
    const peer = `memory:${nextPeer++}`;
    let handler: (report: Uint8Array) => void = () => {};
    let open = true;
    clients.set(peer, (r) => handler(r));
    return {
      send(report) {
        const copy = checkReport(report, 'memory client send');
        if (!open || closed) return;
        post({ toDevice: true, report: copy, peer });
      },
      onReport(h) {
        handler = h;
      },
      close() {
        open = false;
        clients.delete(peer);
      },
    };
  }

  return { device, connect };
}
