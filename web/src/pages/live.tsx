// The live board: queues and operators, pushed by the queueStats and operatorBoard
// subscriptions (a snapshot, then what changed). Nothing is polled; waits and
// times in status tick locally from the server's "since" stamps.
import { memo } from 'preact/compat';
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { gql, onWSState, subscribe, type WSState } from '../api';
import { Elapsed, serverNow, setClockSkew } from '../components/elapsed';
import { fmtDur, fmtNum, fmtPct, t, zoneLabel } from '../i18n';
import { OperatorPanel } from '../components/operatorpanel';

export interface LiveCaller { uniqueid: string; number: string; name: string; since: string; position: number }
export interface LiveMember { interface: string; name: string; operatorId: string; status: string; reason: string; since: string; paused: boolean; inCall: boolean; callsTaken: number }
export interface LiveQueue {
  server: string; queueId: string; name: string; day: string; slThresholdSeconds: number;
  waiting: LiveCaller[]; members: LiveMember[];
  received: number; answered: number; abandoned: number; serviceLevel: number | null;
  avgWaitSeconds: number; maxWaitSeconds: number; avgTalkSeconds: number; updatedAt: string;
}
export interface LiveOperator {
  server: string; operatorId: string; interface: string; name: string; status: string; reason: string; since: string;
  queues: string[]; linkedid: string; incoming: number; outgoing: number; missed: number;
}

export interface ActiveCall {
  server: string; linkedid: string; callerNumber: string; callerName: string; did: string; queue: string; queueId: string;
  operatorId: string; operatorNumber: string; operatorName: string; state: string; since: string; started: string;
}
const CALL_FIELDS = 'server linkedid callerNumber callerName did queue queueId operatorId operatorNumber operatorName state since started';
const cKey = (c: { server: string; linkedid: string }) => c.server + '/' + c.linkedid;

const callStateLabel = (s: string) => ({ NEW: t('New'), QUEUED: t('In queue'), RINGING: t('Ringing'), TALKING: t('Talking now') } as Record<string, string>)[s] ?? s;

const QUEUE_FIELDS = `server queueId name day slThresholdSeconds
  waiting { uniqueid number name since position }
  members { interface name operatorId status reason since paused inCall callsTaken }
  received answered abandoned serviceLevel avgWaitSeconds maxWaitSeconds avgTalkSeconds updatedAt`;
const OPERATOR_FIELDS = 'server operatorId interface name status reason since queues linkedid incoming outgoing missed';

const collator = new Intl.Collator(undefined, { numeric: true });
const qKey = (q: { server: string; name: string }) => q.server + '/' + q.name;
const oKey = (o: { server: string; interface: string }) => o.server + '/' + o.interface;

export function statusLabel(s: string): string {
  switch (s) {
    case 'FREE': return t('Available');
    case 'RINGING': return t('Ringing');
    case 'ON_CALL_IN': return t('Incoming call');
    case 'ON_CALL_OUT': return t('Outgoing call');
    case 'BUSY': return t('Busy');
    case 'PAUSED': return t('Paused');
    case 'UNAVAILABLE': return t('Unavailable');
    case 'LOGGED_OUT': return t('Logged out');
  }
  return s;
}

const talking = (s: string) => s === 'ON_CALL_IN' || s === 'ON_CALL_OUT';

/** Applies an update (snapshot or changes) to a keyed map; returns a new map so the view re-renders. */
export function apply<T>(prev: Map<string, T>, items: T[], snapshot: boolean, key: (x: T) => string): Map<string, T> {
  const next = snapshot ? new Map<string, T>() : new Map(prev);
  for (const it of items) next.set(key(it), it);
  return next;
}

export interface BoardSource {
  start(onQueues: (qs: LiveQueue[], snapshot: boolean) => void, onOperators: (os: LiveOperator[], snapshot: boolean) => void, onError: (e: Error) => void,
    onCalls?: (calls: ActiveCall[], ended: ActiveCall[], snapshot: boolean) => void): () => void;
}

const subscriptionSource: BoardSource = {
  start(onQueues, onOperators, onError, onCalls) {
    const u1 = subscribe<{ queueStats: { snapshot: boolean; queues: LiveQueue[] } }>(
      `subscription Queues { queueStats { snapshot queues { ${QUEUE_FIELDS} } } }`, undefined,
      (d) => onQueues(d.queueStats.queues, d.queueStats.snapshot), onError);
    const u2 = subscribe<{ operatorBoard: { snapshot: boolean; operators: LiveOperator[] } }>(
      `subscription Operators { operatorBoard { snapshot operators { ${OPERATOR_FIELDS} } } }`, undefined,
      (d) => onOperators(d.operatorBoard.operators, d.operatorBoard.snapshot), onError);
    const u3 = onCalls ? subscribe<{ activeCalls: { snapshot: boolean; calls: ActiveCall[]; ended: ActiveCall[] } }>(
      `subscription Calls { activeCalls { snapshot calls { ${CALL_FIELDS} } ended { ${CALL_FIELDS} } } }`, undefined,
      (d) => onCalls(d.activeCalls.calls, d.activeCalls.ended, d.activeCalls.snapshot), () => {}) : () => {};
    return () => { u1(); u2(); u3(); };
  },
};

interface Places { queueZone: Map<string, string>; server: Map<string, { name: string; timezone: string }> }

/** Server names and the zones of queues and servers (today's figures are in the queue's zone). */
function usePlaces(): Places {
  const [p, setP] = useState<Places>({ queueZone: new Map(), server: new Map() });
  useEffect(() => {
    gql<{ queues: { edges: { node: { id: string; timezone: string | null } }[] }; servers: { edges: { node: { id: string; name: string; timezone: string } }[] } }>(
      'query Places { queues(first: 1000) { edges { node { id timezone } } } servers(first: 100) { edges { node { id name timezone } } } }',
    ).then((d) => setP({
      queueZone: new Map(d.queues.edges.map((e) => [e.node.id, e.node.timezone || ''])),
      server: new Map(d.servers.edges.map((e) => [e.node.id, e.node])),
    })).catch(() => {});
  }, []);
  return p;
}

/** Keeps ticking durations from going negative when the server's clock (or a sped-up simulator) is ahead. */
function noteServerTime(stamps: string[]) {
  let latest = 0;
  for (const s of stamps) latest = Math.max(latest, Date.parse(s) || 0);
  if (latest > serverNow()) setClockSkew(latest - Date.now());
}

export function LiveBoard({ wall = false, source, manage = false }: { wall?: boolean; source?: BoardSource; manage?: boolean }) {
  const [queues, setQueues] = useState(new Map<string, LiveQueue>());
  const [operators, setOperators] = useState(new Map<string, LiveOperator>());
  const [calls, setCalls] = useState(new Map<string, ActiveCall>());
  const [error, setError] = useState('');
  const [ready, setReady] = useState(false);
  const [filter, setFilter] = useState('');
  const [managed, setManaged] = useState('');
  const onManage = useCallback((key: string) => setManaged((k) => (k === key ? '' : key)), []);
  const places = usePlaces();
  // A board on a TV must never show stale figures as if they were live.
  const [ws, setWS] = useState<WSState>('connecting');
  const [everConnected, setEver] = useState(false);
  useEffect(() => onWSState((s) => { setWS(s); if (s === 'connected') setEver(true); }), []);
  const stale = everConnected && ws !== 'connected' && !source;
  const multiServer = places.server.size > 1 || new Set([...queues.values()].map((q) => q.server)).size > 1;

  useEffect(() => {
    const src = source ?? (window as unknown as { __linkageBoardSource?: BoardSource }).__linkageBoardSource ?? subscriptionSource;
    return src.start(
      (qs, snap) => {
        setError('');
        setReady(true);
        noteServerTime(qs.flatMap((q) => [q.updatedAt, ...q.waiting.map((c) => c.since)]));
        setQueues((prev) => apply(prev, qs, snap, qKey));
      },
      (os, snap) => {
        noteServerTime(os.map((o) => o.since));
        setOperators((prev) => apply(prev, os, snap, oKey));
      },
      (e) => setError(e.message || String(e)),
      (cs, ended, snap) => {
        noteServerTime(cs.map((c) => c.since));
        setCalls((prev) => {
          const next = apply(prev, cs, snap, cKey);
          for (const c of ended) next.delete(cKey(c));
          return next;
        });
      },
    );
  }, [source]);
  const activeCalls = useMemo(() => [...calls.values()].sort((a, b) => a.started.localeCompare(b.started)), [calls]);

  const qs = useMemo(() => [...queues.values()].sort((a, b) => collator.compare(a.name, b.name) || collator.compare(a.server, b.server)), [queues]);
  const ops = useMemo(() => {
    const f = filter.trim().toLowerCase();
    const all = [...operators.values()].filter((o) => !f || o.name.toLowerCase().includes(f) || o.interface.toLowerCase().includes(f) || o.queues.some((q) => q.toLowerCase().includes(f)));
    return all.sort((a, b) => collator.compare(a.name, b.name) || collator.compare(a.interface, b.interface) || collator.compare(a.server, b.server));
  }, [operators, filter]);

  // Free / talking / paused per queue from the operators' own status (the board's
  // single truth); cards get plain numbers, so a card re-renders only when its own change.
  const counts = useMemo(() => {
    const m = new Map<string, [number, number, number]>();
    for (const q of qs) {
      let free = 0, talk = 0, paused = 0;
      for (const mem of q.members) {
        const st = operators.get(q.server + '/' + mem.interface)?.status ?? mem.status;
        if (st === 'FREE') free++;
        else if (talking(st)) talk++;
        else if (st === 'PAUSED') paused++;
      }
      m.set(qKey(q), [free, talk, paused]);
    }
    return m;
  }, [qs, operators]);

  const totals = useMemo(() => {
    let waiting = 0, free = 0, talk = 0, paused = 0;
    for (const q of qs) waiting += q.waiting.length;
    for (const o of operators.values()) {
      if (o.status === 'FREE') free++;
      else if (talking(o.status)) talk++;
      else if (o.status === 'PAUSED') paused++;
    }
    return { waiting, free, talk, paused };
  }, [qs, operators]);

  return (
    <div class={(wall ? 'board wall' : 'board') + (stale ? ' is-stale' : '')} data-testid="live-board">
      <div class="board-head">
        <h1>{t('Live board')}</h1>
        <p class="totals" aria-live="polite">
          <span>{t('Waiting')}: <b data-testid="total-waiting">{fmtNum(totals.waiting)}</b></span>
          <span>{t('Free')}: <b>{fmtNum(totals.free)}</b></span>
          <span>{t('Talking')}: <b>{fmtNum(totals.talk)}</b></span>
          <span>{t('Paused')}: <b>{fmtNum(totals.paused)}</b></span>
        </p>
        <span class="spacer" />
        {wall ? (
          <>
            <button type="button" onClick={() => (document.fullscreenElement ? document.exitFullscreen() : document.documentElement.requestFullscreen()).catch(() => {})}>{t('Full screen')}</button>
            <a class="button" href="/live">{t('Exit wallboard')}</a>
          </>
        ) : (
          <a class="button" href="/live/wall">{t('Wallboard')}</a>
        )}
      </div>
      {stale && <p class="stale" role="alert">{t('Connection lost: the figures below may be out of date. Reconnecting…')}</p>}
      {error && <p class="error" role="alert">{t('Live data unavailable: {error}', { error })}</p>}
      {!ready && !error && <p class="muted" aria-busy="true">{t('Connecting to live data…')}</p>}
      {ready && !qs.length && <p class="muted">{t('No queues in your scope yet.')}</p>}
      <section class="queues" aria-label={t('Queues')}>
        {qs.map((q) => <QueueCard key={qKey(q)} q={q} zone={places.queueZone.get(q.queueId) || places.server.get(q.server)?.timezone || ''} server={multiServer ? places.server.get(q.server)?.name ?? q.server : ''} free={counts.get(qKey(q))![0]} talk={counts.get(qKey(q))![1]} paused={counts.get(qKey(q))![2]} wall={wall} />)}
      </section>
      {!wall && activeCalls.length > 0 && (
        <section class="active-calls" aria-labelledby="calls-title">
          <h2 id="calls-title">{t('Calls now')} <span class="muted">({fmtNum(activeCalls.length)})</span></h2>
          <div class="scroll">
            <table class="grid" data-testid="active-calls">
              <thead><tr>
                <th scope="col">{t('Caller')}</th>
                <th scope="col">{t('Dialed')}</th>
                <th scope="col">{t('Queue')}</th>
                <th scope="col">{t('Operator')}</th>
                <th scope="col">{t('State')}</th>
                <th scope="col" class="num">{t('In state')}</th>
                <th scope="col" class="num">{t('Duration')}</th>
              </tr></thead>
              <tbody>
                {activeCalls.map((c) => (
                  <tr key={cKey(c)}>
                    <th scope="row">{c.callerNumber || t('unknown number')}{c.callerName && c.callerName !== c.callerNumber ? <span class="muted small"> {c.callerName}</span> : null}</th>
                    <td>{c.did}</td>
                    <td>{c.queue}</td>
                    <td>{c.operatorName || c.operatorNumber}</td>
                    <td>{callStateLabel(c.state)}</td>
                    <td class="num"><Elapsed since={c.since} /></td>
                    <td class="num"><Elapsed since={c.started} /></td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      )}
      {!wall && (
        <section class="operators" aria-labelledby="ops-title">
          <div class="section-head">
            <h2 id="ops-title">{t('Operators')} <span class="muted">({fmtNum(ops.length)})</span></h2>
            <label class="inline">
              {t('Find')}
              <input type="search" value={filter} onInput={(e) => setFilter((e.target as HTMLInputElement).value)} placeholder={t('name, number or queue')} />
            </label>
          </div>
          {manage && managed && operators.get(managed) && (
            <OperatorPanel o={operators.get(managed)!} queues={qs.filter((q) => q.server === operators.get(managed)!.server)} onClose={() => setManaged('')} />
          )}
          <table class="grid fixed" data-testid="operators">
            <thead>
              <tr>
                <th scope="col">{t('Operator')}</th>
                <th scope="col">{t('Device')}</th>
                <th scope="col">{t('Status')}</th>
                <th scope="col">{t('Reason')}</th>
                <th scope="col" class="num">{t('In status')}</th>
                <th scope="col">{t('Queues')}</th>
                <th scope="col" class="num">{t('Incoming')}</th>
                <th scope="col" class="num">{t('Outgoing')}</th>
                <th scope="col" class="num">{t('Missed')}</th>
              </tr>
            </thead>
            <tbody>
              {ops.map((o) => <OperatorRow key={oKey(o)} o={o} server={multiServer ? places.server.get(o.server)?.name ?? o.server : ''} onManage={manage ? onManage : undefined} open={managed === oKey(o)} />)}
            </tbody>
          </table>
        </section>
      )}
    </div>
  );
}

const OperatorRow = memo(function OperatorRow({ o, server, onManage, open }: { o: LiveOperator; server: string; onManage?: (key: string) => void; open?: boolean }) {
  return (
    <tr>
      <th scope="row">{onManage && o.operatorId !== '0'
        ? <button type="button" class="link" data-testid="manage-operator" aria-expanded={!!open} onClick={() => onManage(oKey(o))} title={t('Queues and pause of {name}', { name: o.name || o.interface })}>{o.name || o.interface}</button>
        : o.name || '—'}</th>
      <td>{o.interface}{server && <span class="muted small"> · {server}</span>}</td>
      <td><span class={'status st-' + o.status}>{statusLabel(o.status)}</span></td>
      <td>{o.reason}</td>
      <td class="num"><Elapsed since={o.since} /></td>
      <td>{o.queues.join(', ')}</td>
      <td class="num">{o.incoming}</td>
      <td class="num">{o.outgoing}</td>
      <td class="num">{o.missed}</td>
    </tr>
  );
});

const QueueCard = memo(function QueueCard({ q, zone, server, free, talk, paused, wall }: { q: LiveQueue; zone: string; server: string; free: number; talk: number; paused: number; wall: boolean }) {
  const missed = q.abandoned;
  const slClass = q.serviceLevel == null ? '' : q.serviceLevel >= 80 ? 'good' : q.serviceLevel >= 60 ? 'warn' : 'bad';
  const waiting = [...q.waiting].sort((a, b) => a.position - b.position);
  return (
    <article class="queue" aria-labelledby={'q-' + q.server + q.name} data-testid="queue" data-queue={q.name}>
      <header>
        <h2 id={'q-' + q.server + q.name}>{q.name}{server && <span class="muted server"> · {server}</span>}</h2>
        <span class="muted small" title={t('Today in the queue\'s time zone')}>{t('Today')} {q.day}{zone ? ' · ' + zoneLabel(zone) : ''}</span>
      </header>
      <dl class="figures">
        <div class={q.waiting.length ? 'hot' : ''}><dt>{t('Waiting')}</dt><dd data-testid="waiting">{q.waiting.length}</dd></div>
        <div><dt>{t('Free')}</dt><dd>{free}</dd></div>
        <div><dt>{t('Talking')}</dt><dd>{talk}</dd></div>
        <div><dt>{t('Paused')}</dt><dd>{paused}</dd></div>
        <div><dt>{t('Answered')}</dt><dd data-testid="answered">{q.answered}</dd></div>
        <div class={missed ? 'bad' : ''}><dt>{t('Missed')}</dt><dd data-testid="missed">{missed}</dd></div>
        <div class={slClass}><dt title={t('Answered within {n} s', { n: q.slThresholdSeconds })}>{t('Service level')}</dt><dd>{fmtPct(q.serviceLevel)}</dd></div>
        <div><dt>{t('Avg wait')}</dt><dd>{fmtDur(q.avgWaitSeconds)}</dd></div>
        <div><dt>{t('Longest wait')}</dt><dd>{fmtDur(q.maxWaitSeconds)}</dd></div>
        <div><dt>{t('Avg talk')}</dt><dd>{fmtDur(q.avgTalkSeconds)}</dd></div>
      </dl>
      {waiting.length > 0 && (
        <ol class="waiting" aria-label={t('Waiting callers')}>
          {waiting.slice(0, wall ? 6 : 10).map((c) => (
            <li key={c.uniqueid}>
              <span>{c.number || t('unknown number')}{c.name && c.name !== c.number ? ' · ' + c.name : ''}</span>
              <Elapsed since={c.since} class="wait" />
            </li>
          ))}
          {waiting.length > (wall ? 6 : 10) && <li class="muted">{t('and {n} more', { n: waiting.length - (wall ? 6 : 10) })}</li>}
        </ol>
      )}
    </article>
  );
});
