/**
 * A transport moves 64-byte HID reports between one device and its clients, nothing more.
 * `peer` identifies where a report came from so replies go back to the same client (UDP: address:port).
 */
export interface ReportTransport {
  /** Called for each report the device receives. */
  onReport(handler: (report: Uint8Array, peer: string) => void): void;
  /** Send a report from the device to a peer. */
  send(report: Uint8Array, peer: string): void;
  close(): Promise<void>;
}
