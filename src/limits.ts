/**
 * Bounds shared by every input that ends up in a timer: presence and sensor delays, fault delays, the HTTP
 * schemas, the CLI and the scenario files. Node fires a setTimeout longer than 2^31−1 ms (24.8 days) at once,
 * so an unbounded "wait 35 days" would silently mean "now"; one hour is longer than any client waits.
 */
export const MAX_DELAY_MS = 3_600_000;

/** A number of milliseconds a timer can wait: finite, 0..MAX_DELAY_MS. */
export function isDelayMs(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= MAX_DELAY_MS;
}

/** How messages spell the accepted range. */
export const DELAY_RANGE = `0..${MAX_DELAY_MS} ms`;
