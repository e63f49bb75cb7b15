/** Human-readable renderings of control API answers (`--json` prints them as they are). */
import type { FaultRule, HistoryEntry } from '../../faults/types.ts';
import type { StateSummary } from '../../control/types.ts';
import type { WebDriverCredential } from '../../control/http/webdriver.ts';
import type { AuthenticatorDescription } from '../../control/http/registry.ts';

function compact(v: unknown): string {
  return JSON.stringify(v);
}

export function formatEffect(e: FaultRule['effect']): string {
  const { type, ...params } = e;
  return Object.keys(params).length ? `${type} ${compact(params)}` : type;
}

export function formatRule(r: FaultRule): string {
  const when = Object.keys(r.when).length ? `when ${compact(r.when)}` : 'always';
  const left = r.remaining === null ? 'persistent' : `${r.remaining} left`;
  const p = r.probability !== undefined ? `, p=${r.probability}` : '';
  return `${r.id}  [${r.seam}] ${formatEffect(r.effect)}  ${when}  (${left}${p}; matched ${r.matched}, fired ${r.fired})`;
}

export function formatRules(rules: readonly FaultRule[]): string {
  return rules.length ? rules.map(formatRule).join('\n') : 'no faults armed';
}

export function formatHistory(entries: readonly HistoryEntry[]): string {
  if (!entries.length) return 'history is empty';
  return entries
    .map((h) => {
      const where = [h.command, h.rpId, h.channel !== undefined ? `cid ${(h.channel >>> 0).toString(16).padStart(8, '0')}` : undefined].filter(Boolean).join(' ');
      return `#${h.seq}  +${h.at} ms  ${h.fault}  ${h.seam}/${h.effect}${where ? `  ${where}` : ''}${h.detail ? `  ${compact(h.detail)}` : ''}`;
    })
    .join('\n');
}

export function formatState(s: StateSummary): string {
  const pin = !s.pin.supported
    ? 'not supported'
    : `${s.pin.set ? 'set' : 'not set'}, ${s.pin.retries}/${s.pin.maxRetries} retries${s.pin.blocked ? ', BLOCKED' : ''}` +
      `${s.pin.powerCycleRequired ? ', power cycle required' : ''}${s.pin.forceChange ? ', change forced' : ''}, min length ${s.pin.minLength}`;
  const uv = !s.uv.supported
    ? 'not supported'
    : `${s.uv.retries}/${s.uv.maxRetries} retries${s.uv.blocked ? ', BLOCKED' : ''}, ${s.uv.modalities.join('+')}, ` +
      `${s.uv.templates.length} template${s.uv.templates.length === 1 ? '' : 's'}`;
  const c = s.credentials;
  const rows: [string, string][] = [
    ['profile', `${s.profile} (aaguid ${s.aaguid})`],
    ['suspended', s.suspended ? 'yes (locked)' : 'no'],
    ['uptime', `${(s.uptimeMs / 1000).toFixed(1)} s`],
    ['pin', pin],
    ['uv', uv],
    [
      'credentials',
      `${c.discoverable} discoverable of ${c.capacity}, ${c.nonDiscoverable} non-discoverable injected, ${c.deactivated} deactivated, ` +
        `${c.damaged} damaged, ${c.nonDiscoverableCounters} non-discoverable counters`,
    ],
    ['presence', `${s.presence.mode} (delay ${s.presence.delayMs} ms, timeout ${s.presence.timeoutMs} ms)`],
    ['faults', `${s.faults} armed`],
  ];
  return rows.map(([k, v]) => `${`${k}:`.padEnd(13)}${v}`).join('\n');
}

export function formatCredential(c: WebDriverCredential): string {
  const user = c.userName !== undefined ? `${c.userName} (${c.userHandle})` : (c.userHandle ?? '-');
  const flags = [c.backupEligibility ? 'BE' : '', c.backupState ? 'BS' : ''].filter(Boolean).join('+');
  return `${c.credentialId}  ${c.rpId}  user ${user}  alg ${c.alg}  count ${c.signCount}  ${c.status}${flags ? `  ${flags}` : ''}` +
    (c.isResidentCredential ? '' : '  non-discoverable') +
    (c.privateKey !== undefined ? `\n  privateKey ${c.privateKey}` : '');
}

export function formatCredentials(list: readonly WebDriverCredential[]): string {
  return list.length ? list.map(formatCredential).join('\n') : 'no credentials';
}

export function formatAuthenticators(list: readonly AuthenticatorDescription[]): string {
  return list
    .map((a) => `${a.authenticatorId}  ${a.profile}  ${a.protocol}${a.udp ? `  udp://${a.udp.host}:${a.udp.port}` : ''}${a.removable ? '' : '  (started key)'}`)
    .join('\n');
}
