// The operator's workplace: status and time in status, pause with a reason, the
// queues they may serve (join / leave, as Asterisk confirms it), today's counts, the
// call ringing or in progress with the caller's history, and the missed calls.
// Live parts come from the operatorBoard, activeCalls and callEvents subscriptions
// filtered to the operator; membership and pauses are confirmed by Asterisk.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { gql, subscribe } from '../api';
import { Elapsed, serverNow, setClockSkew } from '../components/elapsed';
import { LIVE_OP_FIELDS, PauseControl, QueueToggle, type ActionResult } from '../components/opcontrols';
import { errorText } from '../errors';
import { useMissedCounts } from '../missedcount';
import { fmtDateTime, fmtDur, fmtNum, t } from '../i18n';
import { statusLabel, type ActiveCall, type LiveOperator } from './live';
import { callStatusLabel } from './calls';

interface WQueue { queue: { id: string; number: string; displayName: string | null; timezone: string | null }; member: boolean; paused: boolean; reason: string | null; status: string | null }
export interface Workplace {
  operator: { id: string; number: string; name: string | null; interface: string | null };
  server: { id: string; name: string; timezone: string };
  live: LiveOperator | null;
  queues: WQueue[];
  pauseReasons: { id: string; name: string }[];
  unhandledMissedCalls: number;
}
const WP_Q = `query Workplaces { myWorkplaces {
  operator { id number name interface }
  server { id name timezone }
  live { ${LIVE_OP_FIELDS} }
  queues { queue { id number displayName timezone } member paused reason status }
  pauseReasons { id name }
  unhandledMissedCalls
} }`;

export async function loadWorkplaces(): Promise<Workplace[]> {
  return (await gql<{ myWorkplaces: Workplace[] }>(WP_Q)).myWorkplaces;
}

const SERVER_KEY = 'linkage.workplace.server';
export function useWorkplaces(): { wps: Workplace[] | null; error: string; reload: () => Promise<void>; current: Workplace | null; select: (id: string) => void } {
  const [wps, setWps] = useState<Workplace[] | null>(null);
  const [error, setError] = useState('');
  const [sel, setSel] = useState(localStorage.getItem(SERVER_KEY) ?? '');
  const reload = async () => {
    try {
      setWps(await loadWorkplaces());
      setError('');
    } catch (e) {
      setError(errorText(e));
      setWps((w) => w ?? []);
    }
  };
  useEffect(() => { reload(); }, []);
  const current = wps?.find((w) => w.server.id === sel) ?? wps?.[0] ?? null;
  return { wps, error, reload, current, select: (id) => { localStorage.setItem(SERVER_KEY, id); setSel(id); } };
}

export function ServerSelect({ wps, current, select }: { wps: Workplace[]; current: Workplace; select: (id: string) => void }) {
  if (wps.length < 2) return null;
  return (
    <label>{t('Server')}
      <select data-testid="workplace-server" value={current.server.id} onChange={(e) => select((e.target as HTMLSelectElement).value)}>
        {wps.map((w) => <option value={w.server.id}>{w.server.name}</option>)}
      </select>
    </label>
  );
}

const qLabel = (q: WQueue['queue']) => (q.displayName && q.displayName !== q.number ? `${q.displayName} (${q.number})` : q.number);

export function WorkplacePage() {
  const { wps, error, reload, current, select } = useWorkplaces();
  if (error && !wps?.length) return <div class="report"><h1>{t('Workplace')}</h1><p class="error" role="alert">{error}</p></div>;
  if (!wps) return <p class="muted" aria-busy="true">{t('Loading…')}</p>;
  if (!current) {
    return (
      <div class="report">
        <h1>{t('Workplace')}</h1>
        <p class="notice" data-testid="no-operator">{t('Your user is not linked to an operator on any server. Ask an administrator to link you (Administration → Operators).')}</p>
      </div>
    );
  }
  return <WorkplaceView key={current.server.id} wp={current} wps={wps} select={select} reload={reload} />;
}

function WorkplaceView({ wp, wps, select, reload }: { wp: Workplace; wps: Workplace[]; select: (id: string) => void; reload: () => Promise<void> }) {
  const [live, setLive] = useState<LiveOperator | null>(wp.live);
  const [liveError, setLiveError] = useState('');
  const opID = wp.operator.id;
  useEffect(() => setLive(wp.live), [wp]);

  // The operator's own live state, pushed; if the subscription is refused, poll the workplace.
  useEffect(() => {
    let poll: ReturnType<typeof setInterval> | undefined;
    const un = subscribe<{ operatorBoard: { snapshot: boolean; operators: LiveOperator[] } }>(
      `subscription Me($f: LiveOperatorFilter) { operatorBoard(filter: $f) { snapshot operators { ${LIVE_OP_FIELDS} } } }`,
      { f: { operatorIds: [opID] } },
      (d) => {
        const o = d.operatorBoard.operators.find((x) => x.operatorId === opID && x.server === wp.server.id) ?? d.operatorBoard.operators.find((x) => x.operatorId === opID);
        if (o) {
          if (Date.parse(o.since) > serverNow()) setClockSkew(Date.parse(o.since) - Date.now());
          setLive(o);
        }
      },
      (e) => {
        setLiveError(errorText(e));
        poll ??= setInterval(() => { reload(); }, 3000);
      },
    );
    return () => { un(); if (poll) clearInterval(poll); };
  }, [opID]);

  const onAction = (r: ActionResult) => {
    if (r.live) setLive(r.live);
    reload();
  };
  // Membership: what Asterisk says now (the live operator's queues), else the workplace's answer.
  const member = (q: WQueue) => (live ? live.queues.includes(q.queue.number) : q.member);
  const paused = live?.status === 'PAUSED';
  const reasons = wp.pauseReasons.map((r) => r.name);
  const name = wp.operator.name || wp.operator.number;
  // Unhandled missed calls: live (the menu's subscription), else the workplace's answer.
  const counts = useMissedCounts(true);
  const unhandled = counts?.total ?? wp.unhandledMissedCalls;

  return (
    <div class="workplace" data-testid="workplace">
      <div class="board-head">
        <h1>{t('Workplace')}: {name} <span class="muted small">{wp.operator.interface || wp.operator.number}</span></h1>
        <span class="spacer" />
        <ServerSelect wps={wps} current={wp} select={select} />
        <a class="button" href="/missed">{t('Missed calls')}{unhandled ? ` (${fmtNum(unhandled)})` : ''}</a>
      </div>
      {liveError && <p class="muted small" role="status">{t('Live updates unavailable ({error}); refreshing every few seconds.', { error: liveError })}</p>}
      <div class="wp-grid">
        <section class="card" aria-labelledby="wp-status">
          <h2 id="wp-status">{t('Status')}</h2>
          {live ? (
            <p class="wp-status" data-testid="my-status" data-status={live.status} data-reason={live.reason}>
              <span class={'status st-' + live.status}>{statusLabel(live.status)}</span>
              {live.reason && <span class="reason" data-testid="my-reason"> · {live.reason}</span>}
              {' · '}<Elapsed since={live.since} class="in-status" />
            </p>
          ) : <p class="muted" data-testid="my-status" data-status="">{t('Asterisk has not reported this operator yet.')}</p>}
          <PauseControl paused={paused} reasons={reasons} serverID={wp.server.id} onDone={onAction} idPrefix="wp" />
          <h3>{t('Today')}</h3>
          <dl class="kpis" data-testid="my-counts">
            <div><dt>{t('Incoming')}</dt><dd>{fmtNum(live?.incoming ?? 0)}</dd></div>
            <div><dt>{t('Outgoing')}</dt><dd>{fmtNum(live?.outgoing ?? 0)}</dd></div>
            <div><dt>{t('Missed')}</dt><dd>{fmtNum(live?.missed ?? 0)}</dd></div>
            <div><dt>{t('Unhandled missed calls')}</dt><dd data-testid="my-unhandled">{fmtNum(unhandled)}</dd></div>
          </dl>
        </section>
        <section class="card" aria-labelledby="wp-queues">
          <h2 id="wp-queues">{t('My queues')}</h2>
          {!wp.queues.length && <p class="muted">{t('No queues you may serve on this server.')}</p>}
          <ul class="toggles">
            {wp.queues.map((q) => (
              <QueueToggle key={q.queue.id} queueID={q.queue.id} label={qLabel(q.queue)} member={member(q)} paused={q.paused} onDone={onAction} />
            ))}
          </ul>
        </section>
        <CurrentCall wp={wp} />
      </div>
    </div>
  );
}

interface HistCall { id: string; start: string; status: string; type: string; waitSeconds: number; talkSeconds: number; answeredByName: string | null; answeredByNumber: string | null; queues: string[] | null; missedReason: string | null }
const HIST_FIELDS = 'id start status type waitSeconds talkSeconds answeredByName answeredByNumber queues missedReason';
const CALL_FIELDS = 'server linkedid callerNumber callerName did queue queueId operatorId operatorNumber operatorName state since started';

/** The call ringing for the operator or in progress, with the caller's previous calls. */
function CurrentCall({ wp }: { wp: Workplace }) {
  const [calls, setCalls] = useState(new Map<string, ActiveCall>());
  const [ringing, setRinging] = useState<ActiveCall | null>(null);
  const [history, setHistory] = useState<{ number: string; calls: HistCall[] | null; error: string }>({ number: '', calls: null, error: '' });
  const opID = wp.operator.id;
  useEffect(() => {
    const f = { operatorIds: [opID] };
    const u1 = subscribe<{ activeCalls: { snapshot: boolean; calls: ActiveCall[]; ended: ActiveCall[] } }>(
      `subscription MyCalls($f: LiveCallFilter) { activeCalls(filter: $f) { snapshot calls { ${CALL_FIELDS} } ended { ${CALL_FIELDS} } } }`, { f },
      (d) => setCalls((prev) => {
        const next = d.activeCalls.snapshot ? new Map<string, ActiveCall>() : new Map(prev);
        for (const c of d.activeCalls.calls) if (c.operatorId === opID) next.set(c.linkedid, c); else next.delete(c.linkedid);
        for (const c of d.activeCalls.ended) next.delete(c.linkedid);
        return next;
      }), () => {});
    // A queue call rings several operators; the RINGING event says it rings this one.
    const u2 = subscribe<{ callEvents: { kind: string; time: string; linkedid: string; callerNumber: string; callerName: string; did: string; queue: string; queueId: string; operatorId: string; server: string } }>(
      `subscription MyEvents($f: LiveCallFilter) { callEvents(filter: $f) { kind time server linkedid callerNumber callerName did queue queueId operatorId } }`, { f },
      (d) => {
        const e = d.callEvents;
        if (e.kind === 'RINGING' && e.operatorId === opID) {
          setRinging({ server: e.server, linkedid: e.linkedid, callerNumber: e.callerNumber, callerName: e.callerName, did: e.did, queue: e.queue, queueId: e.queueId,
            operatorId: e.operatorId, operatorNumber: '', operatorName: '', state: 'RINGING', since: e.time, started: e.time });
        } else if (e.kind === 'ENDED' || e.kind === 'STORED' || (e.kind === 'ANSWERED' && e.operatorId !== opID)) {
          setRinging((r) => (r && r.linkedid === e.linkedid ? null : r));
        }
      }, () => {});
    return () => { u1(); u2(); };
  }, [opID]);

  const call = useMemo(() => {
    const all = [...calls.values()].sort((a, b) => b.since.localeCompare(a.since));
    return all.find((c) => c.state === 'TALKING') ?? all[0] ?? ringing;
  }, [calls, ringing]);

  const number = call?.callerNumber ?? '';
  const asked = useRef('');
  useEffect(() => {
    if (!number || asked.current === number) return;
    asked.current = number;
    setHistory({ number, calls: null, error: '' });
    gql<{ callerHistory: HistCall[] }>(`query History($s: ID!, $n: String!) { callerHistory(serverID: $s, number: $n, last: 5) { ${HIST_FIELDS} } }`, { s: wp.server.id, n: number })
      .then((d) => setHistory({ number, calls: d.callerHistory, error: '' }), (e) => setHistory({ number, calls: [], error: errorText(e) }));
  }, [number]);

  return (
    <section class="card current-call" aria-labelledby="wp-call" data-testid="current-call" data-state={call?.state ?? ''}>
      <h2 id="wp-call">{t('Current call')}</h2>
      {!call ? <p class="muted">{t('No call right now.')}</p> : (
        <>
          <p class="caller"><b>{call.callerNumber || t('unknown number')}</b>{call.callerName && call.callerName !== call.callerNumber ? ' · ' + call.callerName : ''}</p>
          <dl class="kpis">
            <div><dt>{t('State')}</dt><dd>{call.state === 'TALKING' ? t('Talking now') : call.state === 'RINGING' ? t('Ringing') : call.state === 'QUEUED' ? t('In queue') : call.state}</dd></div>
            <div><dt>{t('Dialed')}</dt><dd>{call.did || '—'}</dd></div>
            <div><dt>{t('Queue')}</dt><dd>{call.queue || '—'}</dd></div>
            <div><dt>{t('Waited')}</dt><dd>{call.state === 'TALKING' ? fmtDur((Date.parse(call.since) - Date.parse(call.started)) / 1000) : <Elapsed since={call.started} />}</dd></div>
            {call.state === 'TALKING' && <div><dt>{t('Talking for')}</dt><dd><Elapsed since={call.since} /></dd></div>}
          </dl>
          <h3>{t('Previous calls from this number')}</h3>
          {history.error && <p class="error" role="alert">{history.error}</p>}
          {history.calls === null ? <p class="muted" aria-busy="true">{t('Loading…')}</p> : !history.calls.length ? <p class="muted">{t('No earlier calls.')}</p> : (
            <table class="grid" data-testid="caller-history">
              <thead><tr><th scope="col">{t('Start')}</th><th scope="col">{t('Status')}</th><th scope="col">{t('Queues')}</th><th scope="col">{t('Operator')}</th><th scope="col" class="num">{t('Talk')}</th></tr></thead>
              <tbody>
                {history.calls.map((c) => (
                  <tr key={c.id}>
                    <td>{fmtDateTime(c.start, wp.server.timezone)}</td>
                    <td>{callStatusLabel(c.status)}{c.missedReason ? <span class="muted small"> ({c.missedReason})</span> : null}</td>
                    <td>{(c.queues ?? []).join(', ')}</td>
                    <td>{c.answeredByName || c.answeredByNumber || '—'}</td>
                    <td class="num">{fmtDur(c.talkSeconds)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </section>
  );
}
