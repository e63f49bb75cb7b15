/**
 * UDP transport, the SoloKeys simulator convention used by existing tools (python-fido2 shims, libfido2
 * custom I/O): one 64-byte HID report per datagram, device on 127.0.0.1:8111 by default, replies to the
 * sender. Each sender address:port is its own peer, so several clients can talk at once.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { ReportTransport } from './types.ts';
import type { ClientPipe } from './memory.ts';
import { HID_REPORT_SIZE } from '../ctap/constants/commands.ts';
import { equal, fromHex } from '../ctap/bytes.ts';

export const DEFAULT_UDP_HOST = '127.0.0.1';
export const DEFAULT_UDP_PORT = 8111;

/**
 * The SoloKeys simulator's power-cycle datagram: a fixed 64-byte magic value a test tool sends to make
 * the simulated key drop its volatile state as if it were unplugged and plugged back in.
 */
export const POWER_CYCLE_DATAGRAM = fromHex(
  'ac1052ca95e569de69e02ebff333485f13f9b2da34c5a8a340526697a9ab2e0b' +
    '394d8d04973c134005be1a0140bff6045bb26eb77a73eaa47813f6b49a7250dc',
);

export type ControlEvent = 'power-cycle';

export interface UdpTransportOptions {
  host?: string;
  port?: number;
  /** Called for datagrams that are not 64 bytes (they are otherwise ignored). */
  onIgnored?: (size: number, peer: string) => void;
}

export interface UdpTransport extends ReportTransport {
  /** Where the socket is actually bound (port 0 resolves to the real port). */
  readonly address: { host: string; port: number };
  /** Out-of-band datagrams (the simulator's power-cycle magic), never handed up as reports. */
  onControl(handler: (event: ControlEvent, peer: string) => void): void;
}

/** "host:port" for IPv4, "[host]:port" for IPv6 (so the last colon always splits the port off). */
export function formatPeer(host: string, port: number): string {
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

export function parsePeer(peer: string): { host: string; port: number } {
  const i = peer.lastIndexOf(':');
  const port = Number(peer.slice(i + 1));
  let host = peer.slice(0, i);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (i <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) throw new TypeError(`not a UDP peer: ${peer}`);
  return { host, port };
}

function toU8(msg: Buffer): Uint8Array {
  return new Uint8Array(msg.buffer.slice(msg.byteOffset, msg.byteOffset + msg.byteLength));
}

function bind(socket: Socket, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    socket.once('error', onError);
    socket.bind(port, host, () => {
      socket.off('error', onError);
      resolve();
    });
  });
}

function closeSocket(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve(); // already closed
    }
  });
}

export async function createUdpTransport({
  host = DEFAULT_UDP_HOST,
  port = DEFAULT_UDP_PORT,
  onIgnored,
}: UdpTransportOptions = {}): Promise<UdpTransport> {
  const socket = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
  try {
    await bind(socket, host, port);
  } catch (e) {
    await closeSocket(socket);
    throw e;
  }
  const bound = socket.address();
  let reportHandler: ((report: Uint8Array, peer: string) => void) | undefined;
  let controlHandler: ((event: ControlEvent, peer: string) => void) | undefined;
  let closed = false;

  // After bind, a socket error (e.g. ICMP unreachable surfacing on some platforms) must not crash the process.
  socket.on('error', () => {});
  socket.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
    const peer = formatPeer(rinfo.address, rinfo.port);
    if (msg.length !== HID_REPORT_SIZE) {
      onIgnored?.(msg.length, peer);
      return;
    }
    const report = toU8(msg);
    if (equal(report, POWER_CYCLE_DATAGRAM)) {
      controlHandler?.('power-cycle', peer);
      return;
    }
    reportHandler?.(report, peer);
  });

  return {
    address: { host: bound.address, port: bound.port },
    onReport(handler) {
      reportHandler = handler;
    },
    onControl(handler) {
      controlHandler = handler;
    },
    send(report, peer) {
      if (report.length !== HID_REPORT_SIZE) {
        throw new RangeError(`udp transport send: a HID report is ${HID_REPORT_SIZE} bytes, got ${report.length}`);
      }
      if (closed) return;
      const { host: h, port: p } = parsePeer(peer);
      socket.send(report, p, h);
    },
    async close() {
      if (closed) return;
      closed = true;
      await closeSocket(socket);
    },
  };
}

export interface UdpClientPipe extends ClientPipe {
  /** The client's own address (its peer id on the device side). */
  readonly localAddress: { host: string; port: number };
  /** Send the simulator power-cycle datagram. */
  powerCycle(): void;
  /** Close and wait until the socket is released. */
  closeAsync(): Promise<void>;
}

/**
 * A client end for a UDP device: its own socket on an ephemeral port. Only datagrams from the device's
 * address are handed up, and only 64-byte ones.
 */
export async function connectUdp({
  host = DEFAULT_UDP_HOST,
  port = DEFAULT_UDP_PORT,
}: { host?: string; port?: number } = {}): Promise<UdpClientPipe> {
  const socket = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
  // connect() binds an ephemeral port and makes the kernel drop datagrams from any other address.
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.connect(port, host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    await closeSocket(socket);
    throw e;
  }
  socket.on('error', () => {});
  const local = socket.address();
  let handler: (report: Uint8Array) => void = () => {};
  let closing: Promise<void> | undefined;
  socket.on('message', (msg: Buffer) => {
    if (msg.length === HID_REPORT_SIZE) handler(toU8(msg));
  });
  const closeAsync = (): Promise<void> => (closing ??= closeSocket(socket));
  return {
    localAddress: { host: local.address, port: local.port },
    send(report) {
      if (report.length !== HID_REPORT_SIZE) {
        throw new RangeError(`udp client send: a HID report is ${HID_REPORT_SIZE} bytes, got ${report.length}`);
      }
      if (closing) return;
      socket.send(report);
    },
    onReport(h) {
      handler = h;
    },
    powerCycle() {
      if (!closing) socket.send(POWER_CYCLE_DATAGRAM);
    },
    close() {
      void closeAsync();
    },
    closeAsync,
  };
}
