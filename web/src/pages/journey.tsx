// A call's journey: the call, its queue stints, every ring of an operator (attempt),
// the legs operators talked on, and transfers, on one time axis; the same facts
// as a chronological list below for keyboard and screen-reader users.
import { useEffect, useState } from 'preact/hooks';
import { gql } from '../api';
import { browserZone, fmtDateTime, fmtDur, fmtTime, t, zoneLabel } from '../i18n';
import { CALL_FIELDS, callStatusLabel, hangupLabel, typeLabel, type CallRow } from './calls';

interface Leg { id: string; operatorID: string | null; number: string | null; name: string | null; device: string | null; ringAt: string | null; answerAt: string | null; endAt: string | null; waitSeconds: number; talkSeconds: number; holdSeconds: number; transferType: string | null; transferTo: string | null }
interface Visit { id: string; joinedAt: string; leftAt: string | null; position: number; result: string; waitSeconds: number; queue: { number: string; displayName: string | null; timezone: string | null } }
interface Attempt { id: string; interface: string | null; ringStart: string; ringEnd: string | null; result: string; ringSeconds: number; operator: { number: string; name: string | null } | null }
interface Transfer { type: string; by: string; to: string; answered: boolean }
interface Journey { call: CallRow & { approximateTimes: boolean; incompleteReason: string | null; server: { name: string; timezone: string } }; legs: Leg[]; visits: Visit[]; attempts: Attempt[]; transfers: Transfer[] }

const Q = `query Journey($id: ID!) { call(id: $id) {
  call { ${CALL_FIELDS} approximateTimes incompleteReason server { name timezone } }
  legs { id operatorID number name device ringAt answerAt endAt waitSeconds talkSeconds holdSeconds transferType transferTo }
  visits { id joinedAt leftAt position result waitSeconds queue { number displayName timezone } }
  attempts { id interface ringStart ringEnd result ringSeconds operator { number name } }
  transfers { type by to answered }
} }`;

const resultLabel = (r: string) => ({
  answered: t('answered'), abandoned: t('abandoned'), timeout: t('timeout'), empty: t('queue empty'), full: t('queue full'), transferred: t('transferred'),
  noanswer: t('no answer'), busy: t('busy'), dump: t('rejected'), cancelled: t('cancelled'), unknown: t('unknown'),
} as Record<string, string>)[r] ?? r;

export function CallJourney({ id, listen }: { id: string; listen: boolean }) {
  const [j, setJ] = useState<Journey | null | undefined>(undefined);
  const [error, setError] = useState('');
  useEffect(() => {
    gql<{ call: Journey | null }>(Q, { id }).then((d) => setJ(d.call), (e) => setError((e as Error).message));
  }, [id]);
  if (error) return <p class="error" role="alert">{error}</p>;
  if (j === undefined) return <p class="muted" aria-busy="true">{t('Loading…')}</p>;
  if (j === null) return <p class="notice">{t('Call not found.')}</p>;
  const c = j.call;
  // Queue data in the queue's zone; otherwise the server's.
  const zone = j.visits[0]?.queue.timezone || c.server?.timezone || browserZone();
  return (
    <div class="journey">
      <p><a href="/calls">{t('← Calls')}</a></p>
      <h1>{t('Call from {from}', { from: c.callerNumber || t('unknown number') })} <span class="muted small">{fmtDateTime(c.start, zone)} · {zoneLabel(zone)}</span></h1>
      <dl class="kpis">
        <div><dt>{t('Type')}</dt><dd>{typeLabel(c.type)}</dd></div>
        <div><dt>{t('Status')}</dt><dd>{callStatusLabel(c.status)}{c.missedReason ? ` (${c.missedReason})` : ''}</dd></div>
        <div><dt>{t('Dialed')}</dt><dd>{c.dialed || c.calleeNumber || '—'}</dd></div>
        <div><dt>{t('Answered by')}</dt><dd>{c.answeredByName || c.answeredByNumber || '—'}</dd></div>
        <div><dt>{t('Wait')}</dt><dd>{fmtDur(c.waitSeconds)}</dd></div>
        <div><dt>{t('Talk')}</dt><dd>{fmtDur(c.talkSeconds)}</dd></div>
        <div><dt>{t('Hold')}</dt><dd>{fmtDur(c.holdSeconds)}</dd></div>
        <div><dt>{t('Hung up')}</dt><dd>{hangupLabel(c.hangupBy)}</dd></div>
      </dl>
      <p class="muted small">linkedid {c.linkedid} · {t('server')} {c.server?.name}
        {c.approximateTimes ? ' · ' + t('times are approximate') : ''}{c.incomplete ? ' · ' + t('incomplete: {why}', { why: c.incompleteReason || '' }) : ''}</p>
      <Timeline j={j} zone={zone} />
      <section aria-labelledby="rec-title" class="recordings">
        <h2 id="rec-title">{t('Recording')}</h2>
        {/* The server checks the queue's listen permission and audits each listen;
            it serves byte ranges, so the player can seek. */}
        {(c.recordings ?? []).length ? (
          <ul>{c.recordings!.map((r, i) => <li><code>{r}</code>{listen
            ? <audio class="recording" controls preload="none" aria-label={t('Recording')} src={`/recordings/${encodeURIComponent(id)}/${i}`} />
            : <span class="muted small"> {t('You may not listen to this queue\'s recordings.')}</span>}</li>)}</ul>
        ) : <p class="muted">{t('No recording for this call.')}</p>}
      </section>
      {j.transfers.length > 0 && (
        <section aria-labelledby="tr-title">
          <h2 id="tr-title">{t('Transfers')}</h2>
          <ul>{j.transfers.map((x) => <li>{t('{type} transfer by {by} to {to}', { type: x.type, by: x.by || '—', to: x.to || '—' })} — {x.answered ? t('answered') : t('not answered')}</li>)}</ul>
        </section>
      )}
      <Steps j={j} zone={zone} />
    </div>
  );
}

interface Bar { lane: string; from: number; to: number; cls: string; label: string; sub?: number; subTo?: number }

function Timeline({ j, zone }: { j: Journey; zone: string }) {
  const c = j.call;
  const t0 = Date.parse(c.start), t1 = Math.max(Date.parse(c.end), t0 + 1000);
  const bars: Bar[] = [{ lane: t('Call'), from: t0, to: t1, cls: 'b-call', label: `${typeLabel(c.type)} · ${fmtDur((t1 - t0) / 1000)}`, sub: c.answered ? Date.parse(c.answered) : undefined, subTo: t1 }];
  for (const v of j.visits) {
    bars.push({ lane: v.queue.displayName || t('Queue {q}', { q: v.queue.number }), from: Date.parse(v.joinedAt), to: v.leftAt ? Date.parse(v.leftAt) : t1, cls: 'b-q-' + v.result, label: `${resultLabel(v.result)} · ${t('wait')} ${fmtDur(v.waitSeconds)}` });
  }
  for (const a of j.attempts) {
    bars.push({ lane: t('Ring {op}', { op: a.operator?.name || a.operator?.number || a.interface || '?' }), from: Date.parse(a.ringStart), to: a.ringEnd ? Date.parse(a.ringEnd) : Date.parse(a.ringStart) + a.ringSeconds * 1000, cls: 'b-a-' + a.result, label: `${resultLabel(a.result)} · ${fmtDur(a.ringSeconds)}` });
  }
  for (const l of j.legs) {
    const from = Date.parse(l.ringAt || l.answerAt || c.start);
    const to = l.endAt ? Date.parse(l.endAt) : t1;
    const hold = l.holdSeconds ? ` · ${t('hold')} ${fmtDur(l.holdSeconds)}` : '';
    const tr = l.transferType ? ` · ${t('transfer')} ${l.transferType}${l.transferTo ? ' → ' + l.transferTo : ''}` : '';
    bars.push({ lane: t('Leg {op}', { op: l.name || l.number || l.device || '?' }), from, to, cls: 'b-leg', label: `${t('talk')} ${fmtDur(l.talkSeconds)}${hold}${tr}`, sub: l.answerAt ? Date.parse(l.answerAt) : undefined, subTo: to });
  }
  const W = 960, L = 200, R = 16, rowH = 30, top = 24;
  const x = (ms: number) => L + ((Math.min(Math.max(ms, t0), t1) - t0) / (t1 - t0)) * (W - L - R);
  const H = top + bars.length * rowH + 8;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => t0 + f * (t1 - t0));
  return (
    <figure class="timeline" data-testid="timeline">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={t('Call timeline')}>
        {ticks.map((tk) => (
          <g><line x1={x(tk)} x2={x(tk)} y1={top - 6} y2={H} class="gridline" /><text x={x(tk)} y={top - 10} text-anchor={tk === t0 ? 'start' : tk === t1 ? 'end' : 'middle'} class="axis">{fmtTime(new Date(tk), zone)}</text></g>
        ))}
        {bars.map((b, i) => {
          const y = top + i * rowH;
          const w = Math.max(2, x(b.to) - x(b.from));
          return (
            <g class={'bar ' + b.cls}>
              <text x={L - 8} y={y + 19} text-anchor="end" class="lane">{b.lane}</text>
              <rect x={x(b.from)} y={y + 4} width={w} height={rowH - 8} rx="3" class="bg" />
              {b.sub != null && <rect x={x(b.sub)} y={y + 4} width={Math.max(2, x(b.subTo!) - x(b.sub))} height={rowH - 8} rx="3" class="fg" />}
              <text x={Math.min(x(b.from) + 6, W - 260)} y={y + 19} class="barlabel">{b.label}</text>
              <title>{`${b.lane}: ${fmtTime(new Date(b.from), zone)} – ${fmtTime(new Date(b.to), zone)} · ${b.label}`}</title>
            </g>
          );
        })}
      </svg>
      <figcaption class="muted small">{t('Times in {zone}', { zone: zoneLabel(zone) })}</figcaption>
    </figure>
  );
}

function Steps({ j, zone }: { j: Journey; zone: string }) {
  const steps: { at: string; what: string }[] = [{ at: j.call.start, what: t('Call started') }];
  for (const v of j.visits) {
    steps.push({ at: v.joinedAt, what: t('Entered queue {q} at position {p}', { q: v.queue.displayName || v.queue.number, p: v.position }) });
    if (v.leftAt) steps.push({ at: v.leftAt, what: t('Left queue {q}: {r}', { q: v.queue.displayName || v.queue.number, r: resultLabel(v.result) }) });
  }
  for (const a of j.attempts) steps.push({ at: a.ringStart, what: t('Rang {op}: {r} after {s}', { op: a.operator?.name || a.operator?.number || a.interface || '?', r: resultLabel(a.result), s: fmtDur(a.ringSeconds) }) });
  for (const l of j.legs) if (l.answerAt) steps.push({ at: l.answerAt, what: t('{op} answered', { op: l.name || l.number || l.device || '?' }) });
  if (j.call.answered) steps.push({ at: j.call.answered, what: t('Call answered') });
  steps.push({ at: j.call.end, what: t('Call ended ({who} hung up)', { who: hangupLabel(j.call.hangupBy) }) });
  steps.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  return (
    <section aria-labelledby="steps-title">
      <h2 id="steps-title">{t('Steps')}</h2>
      <ol class="steps">{steps.map((s) => <li><time dateTime={s.at}>{fmtTime(s.at, zone)}</time> {s.what}</li>)}</ol>
    </section>
  );
}
