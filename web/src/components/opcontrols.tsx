// Pause / back to work and queue membership, for an operator's own workplace and for
// a supervisor acting on an operator (the same mutations with operatorID). Every
// action waits for Asterisk: the control shows the pending state until the server
// answers, the confirmed state after, and Asterisk's refusal as an error — never a
// silent success.
import { useState } from 'preact/hooks';
import { gql } from '../api';
import { errorText } from '../errors';
import { t } from '../i18n';
import type { LiveOperator } from '../pages/live';

export const LIVE_OP_FIELDS = 'server operatorId interface name status reason since queues linkedid incoming outgoing missed';
const RESULT = `confirmed live { ${LIVE_OP_FIELDS} }`;

export interface ActionResult { confirmed: boolean; live: LiveOperator | null }

export async function pauseOperator(input: { operatorID?: string; serverID?: string; paused: boolean; reason?: string | null; queueID?: string }): Promise<ActionResult> {
  const d = await gql<{ pauseOperator: ActionResult }>(`mutation Pause($input: PauseInput!) { pauseOperator(input: $input) { ${RESULT} } }`, { input });
  return d.pauseOperator;
}

export async function setMembership(join: boolean, input: { operatorID?: string; queueID: string }): Promise<ActionResult> {
  const f = join ? 'joinQueue' : 'leaveQueue';
  const d = await gql<Record<string, ActionResult>>(`mutation Membership($input: MembershipInput!) { ${f}(input: $input) { ${RESULT} } }`, { input });
  return d[f];
}

/** Pause with a reason (from the configured ones; free text when none are), or back to work. */
export function PauseControl(props: {
  paused: boolean; reasons: string[]; operatorID?: string; serverID?: string;
  onDone: (r: ActionResult) => void; idPrefix: string;
}) {
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [note, setNote] = useState('');
  const act = async (paused: boolean) => {
    setBusy(true);
    setError('');
    setNote('');
    try {
      const r = await pauseOperator({ operatorID: props.operatorID, serverID: props.serverID, paused, reason: paused ? (reason || props.reasons[0] || null) : null });
      if (!r.confirmed) setNote(t('Asterisk accepted the request; its confirmation has not arrived yet.'));
      props.onDone(r);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="pause-control" aria-busy={busy}>
      {props.paused ? (
        <button type="button" data-testid="unpause" disabled={busy} onClick={() => act(false)}>{busy ? t('Waiting for Asterisk…') : t('Back to work')}</button>
      ) : (
        <>
          {props.reasons.length ? (
            <label>{t('Pause reason')}
              <select id={props.idPrefix + '-reason'} data-testid="pause-reason" value={reason || props.reasons[0]} onChange={(e) => setReason((e.target as HTMLSelectElement).value)}>
                {props.reasons.map((r) => <option value={r}>{r}</option>)}
              </select>
            </label>
          ) : (
            <label>{t('Pause reason')}
              <input id={props.idPrefix + '-reason'} data-testid="pause-reason" value={reason} onInput={(e) => setReason((e.target as HTMLInputElement).value)} />
            </label>
          )}
          <button type="button" data-testid="pause" disabled={busy} onClick={() => act(true)}>{busy ? t('Waiting for Asterisk…') : t('Pause')}</button>
        </>
      )}
      {note && <p class="muted small" role="status">{note}</p>}
      {error && <p class="error" role="alert" data-testid="pause-error">{error}</p>}
    </div>
  );
}

/** One queue: membership as Asterisk confirmed it, a switch to join or leave, pending and error states. */
export function QueueToggle(props: { queueID: string; label: string; member: boolean; paused?: boolean; operatorID?: string; onDone: (r: ActionResult, join: boolean) => void }) {
  const [pending, setPending] = useState<'join' | 'leave' | null>(null);
  const [error, setError] = useState('');
  const [note, setNote] = useState('');
  const toggle = async () => {
    const join = !props.member;
    setPending(join ? 'join' : 'leave');
    setError('');
    setNote('');
    try {
      const r = await setMembership(join, { operatorID: props.operatorID, queueID: props.queueID });
      if (!r.confirmed) setNote(t('Asterisk accepted the request; its confirmation has not arrived yet.'));
      props.onDone(r, join);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setPending(null);
    }
  };
  const state = pending === 'join' ? t('Joining… waiting for Asterisk') : pending === 'leave' ? t('Leaving… waiting for Asterisk')
    : props.member ? (props.paused ? t('In the queue, paused') : t('In the queue')) : t('Not in the queue');
  return (
    <li class={'queue-toggle' + (props.member ? ' on' : '')} data-testid="queue-toggle" data-queue={props.label} data-member={String(props.member)} data-pending={pending ?? ''}>
      <span class="q-name">{props.label}</span>
      <span class="q-state" aria-live="polite">{state}</span>
      <button type="button" role="switch" aria-checked={props.member} aria-label={t('Member of queue {q}', { q: props.label })} disabled={!!pending} onClick={toggle}>
        {props.member ? t('Leave') : t('Join')}
      </button>
      {note && <span class="muted small" role="status">{note}</span>}
      {error && <span class="error" role="alert" data-testid="queue-error">{error}</span>}
    </li>
  );
}
