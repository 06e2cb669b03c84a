// Missed calls to handle: the unhandled ones of the viewer's queues, oldest first,
// with how many times the number tried; call back (Originate from the operator's
// device) or mark handled with a comment. The list follows the live count.
import { useEffect, useRef, useState } from 'preact/hooks';
import { gql } from '../api';
import { errorText } from '../errors';
import { useMissedCounts } from '../missedcount';
import { fmtDateTime, fmtDur, fmtNum, t, tn, zoneLabel } from '../i18n';

interface Missed {
  id: string; callerNumber: string; callerName: string | null; missedAt: string; reason: string | null; waitSeconds: number;
  attempts: number; callbackAttempts: number; lastCallbackAt: string | null;
  serverID: number;
  queue: { id: string; number: string; displayName: string | null; timezone: string | null } | null;
}
type Servers = Map<string, { name: string; timezone: string }>;
const Q = `query Missed { unhandledMissedCalls(first: 200) {
  id callerNumber callerName missedAt reason waitSeconds attempts callbackAttempts lastCallbackAt
  serverID queue { id number displayName timezone }
} }`;
// Operators may not read servers: their names and zones come from the workplaces.
const SERVERS_Q = 'query MyServers { myWorkplaces { server { id name timezone } } }';

const reasonLabel = (r: string | null) => (r ? ({ abandoned: t('caller hung up'), noanswer: t('no answer'), timeout: t('timeout'), busy: t('busy'), empty: t('queue empty'), full: t('queue full') } as Record<string, string>)[r] ?? r : '');

export function MissedCallsPage() {
  return <MissedCalls />;
}

export function MissedCalls() {
  const counts = useMissedCounts(true);
  const [rows, setRows] = useState<Missed[] | null>(null);
  const [error, setError] = useState('');
  const [done, setDone] = useState('');
  const [servers, setServers] = useState<Servers>(new Map());
  useEffect(() => {
    gql<{ myWorkplaces: { server: { id: string; name: string; timezone: string } }[] }>(SERVERS_Q)
      .then((d) => setServers(new Map(d.myWorkplaces.map((w) => [w.server.id, w.server]))), () => {});
  }, []);
  const load = async () => {
    try {
      const d = await gql<{ unhandledMissedCalls: Missed[] }>(Q);
      setRows(d.unhandledMissedCalls);
      setError('');
    } catch (e) {
      setError(errorText(e));
      setRows((r) => r ?? []);
    }
  };
  // The list follows the live count (a new missed call, or one handled elsewhere).
  const lastTotal = useRef<number | null>(null);
  useEffect(() => {
    if (counts && counts.total === lastTotal.current) return;
    lastTotal.current = counts?.total ?? null;
    load();
  }, [counts?.total]);

  const multiServer = new Set((rows ?? []).map((r) => r.serverID)).size > 1;
  return (
    <div class="report" data-testid="missed-page">
      <div class="board-head">
        <h1>{t('Missed calls')}</h1>
        <p class="totals" aria-live="polite">
          <span>{t('Unhandled')}: <b data-testid="missed-total">{counts ? fmtNum(counts.total) : '…'}</b></span>
        </p>
      </div>
      {done && <p class="muted" role="status">{done}</p>}
      {error && <p class="error" role="alert">{error}</p>}
      {rows !== null && rows.length > 0 && (
        <p class="muted small">{t('Times in {zone}', { zone: [...new Set(rows.map((m) => m.queue?.timezone || servers.get(String(m.serverID))?.timezone || 'UTC'))].map(zoneLabel).join(', ') })}</p>
      )}
      {rows === null ? <p class="muted" aria-busy="true">{t('Loading…')}</p> : (
        <div class="scroll">
          <table class="grid" data-testid="missed-table">
            <thead><tr>
              <th scope="col">{t('Missed at')}</th>
              <th scope="col">{t('Caller')}</th>
              <th scope="col">{t('Queue')}</th>
              <th scope="col">{t('Reason')}</th>
              <th scope="col" class="num">{t('Waited')}</th>
              <th scope="col" class="num">{t('Attempts')}</th>
              <th scope="col" class="num">{t('Callbacks')}</th>
              <th scope="col">{t('Actions')}</th>
            </tr></thead>
            <tbody>
              {rows.map((m) => <MissedRow key={m.id} m={m} server={multiServer ? servers.get(String(m.serverID)) ?? { name: String(m.serverID), timezone: '' } : null}
                zone={m.queue?.timezone || servers.get(String(m.serverID))?.timezone || 'UTC'}
                onHandled={(msg) => { setDone(msg); setRows((r) => (r ?? []).filter((x) => x.id !== m.id && !(x.callerNumber === m.callerNumber && x.serverID === m.serverID))); }} />)}
              {!rows.length && <tr><td colSpan={8} class="muted">{t('No unhandled missed calls.')}</td></tr>}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function MissedRow({ m, server, zone, onHandled }: { m: Missed; server: { name: string } | null; zone: string; onHandled: (msg: string) => void }) {
  const [open, setOpen] = useState(false);
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState<'' | 'callback' | 'handle'>('');
  const [error, setError] = useState('');
  const [note, setNote] = useState('');
  const callBack = async () => {
    setBusy('callback');
    setError('');
    try {
      await gql('mutation CallBack($id: ID!) { callBack(missedCallID: $id) { actionID missedCall { id callbackAttempts lastCallbackAt } } }', { id: m.id });
      setNote(t('Calling {n} from your phone: pick up to be connected.', { n: m.callerNumber }));
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy('');
    }
  };
  const handle = async (e: Event) => {
    e.preventDefault();
    setBusy('handle');
    setError('');
    try {
      await gql('mutation Handle($id: ID!, $c: String) { markMissedCallHandled(id: $id, comment: $c) { id state comment handledHow } }', { id: m.id, c: comment || null });
      onHandled(t('The call from {n} is marked handled.', { n: m.callerNumber }));
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy('');
    }
  };
  const fid = 'mc-' + m.id;
  const commentRef = useRef<HTMLInputElement>(null);
  useEffect(() => { if (open) commentRef.current?.focus(); }, [open]);
  return (
    <>
      <tr data-testid="missed-row" data-id={m.id} data-number={m.callerNumber}>
        <td class="num">{fmtDateTime(m.missedAt, zone)}</td>
        <th scope="row">{m.callerNumber || t('unknown number')}{m.callerName && m.callerName !== m.callerNumber ? <span class="muted small"> {m.callerName}</span> : null}</th>
        <td>{m.queue ? (m.queue.displayName || m.queue.number) : '—'}{server ? <span class="muted small"> · {server.name}</span> : null}</td>
        <td>{reasonLabel(m.reason)}</td>
        <td class="num">{fmtDur(m.waitSeconds)}</td>
        <td class="num" title={tn('{n} unhandled call from this number', '{n} unhandled calls from this number', m.attempts)}>{m.attempts}</td>
        <td class="num">{m.callbackAttempts}</td>
        <td class="actions">
          <button type="button" data-testid="call-back" disabled={!!busy} onClick={callBack} aria-label={t('Call back {n}', { n: m.callerNumber })}>{busy === 'callback' ? t('Calling…') : t('Call back')}</button>
          <button type="button" class="secondary" data-testid="mark-handled" aria-expanded={open} aria-controls={fid} onClick={() => setOpen(!open)} aria-label={t('Mark the call from {n} handled', { n: m.callerNumber })}>{t('Mark handled')}</button>
        </td>
      </tr>
      {(open || error || note) && (
        <tr class="detail">
          <td colSpan={8}>
            {open && (
              <form id={fid} class="inline-form" onSubmit={handle}>
                <label>{t('Comment')}<input ref={commentRef} data-testid="handled-comment" value={comment} onInput={(e) => setComment((e.target as HTMLInputElement).value)} size={50} /></label>
                <button type="submit" data-testid="handled-save" disabled={!!busy}>{busy === 'handle' ? t('Saving…') : t('Save as handled')}</button>
                <button type="button" class="secondary" onClick={() => setOpen(false)}>{t('Cancel')}</button>
              </form>
            )}
            {note && <p class="muted" role="status">{note}</p>}
            {error && <p class="error" role="alert">{error}</p>}
          </td>
        </tr>
      )}
    </>
  );
}
