// The call list: filters, sorting by start/end/wait/talk, forward pages with a way
// back (a stack of cursors), and a link from each call to its journey.
import { useEffect, useState } from 'preact/hooks';
import { gql } from '../api';
import { ExportButtons } from '../components/export';
import { PeriodPicker, periodFilter, periodFromQuery, periodInput, periodParams, periodToQuery, type PeriodState } from '../components/period';
import { useQueues } from '../data';
import { fmtDateTime, fmtDur, t, tn, zoneLabel } from '../i18n';
import { setQuery, useLocation } from '../router';

export interface CallRow {
  id: string; linkedid: string; start: string; answered: string | null; end: string; type: string; status: string; missedReason: string | null;
  callerNumber: string | null; callerName: string | null; dialed: string | null; calleeNumber: string | null;
  answeredByNumber: string | null; answeredByName: string | null; queues: string[] | null; missedByOperators: string[] | null;
  hangupBy: string; waitSeconds: number; talkSeconds: number; holdSeconds: number; talkWithoutHoldSeconds: number; transferred: boolean; recordings: string[] | null; incomplete: boolean;
}
export const CALL_FIELDS = 'id linkedid start answered end type status missedReason callerNumber callerName dialed calleeNumber answeredByNumber answeredByName queues missedByOperators hangupBy waitSeconds talkSeconds holdSeconds talkWithoutHoldSeconds transferred recordings incomplete';

type SortField = 'START' | 'END' | 'WAIT' | 'TALK';
const PAGE = 50;

export const typeLabel = (s: string) => ({ inbound: t('Incoming'), outbound: t('Outgoing'), internal: t('Internal') } as Record<string, string>)[s] ?? s;
export const callStatusLabel = (s: string) => ({ answered: t('Answered'), missed: t('Missed') } as Record<string, string>)[s] ?? s;
export const hangupLabel = (s: string) => ({ caller: t('Caller'), callee: t('Callee'), operator: t('Operator'), system: t('System'), unknown: t('Unknown') } as Record<string, string>)[s] ?? s;

export function CallList() {
  const { query } = useLocation();
  const queues = useQueues();
  const [period, setPeriod] = useState<PeriodState>(() => periodFromQuery(query));
  const [f, setF] = useState({
    search: query.get('search') ?? '', status: query.get('status') ?? '', type: query.get('type') ?? '', hangupBy: query.get('hangupBy') ?? '',
    transferred: query.get('transferred') ?? '', waitMin: query.get('waitMin') ?? '', waitMax: query.get('waitMax') ?? '',
  });
  const [sort, setSort] = useState<{ field: SortField; dir: 'ASC' | 'DESC' }>({ field: (query.get('orderBy') as SortField) || 'START', dir: query.get('direction') === 'ASC' ? 'ASC' : 'DESC' });
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [data, setData] = useState<{ rows: CallRow[]; total: number; next: string | null } | null>(null);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const [params, setParams] = useState<URLSearchParams | null>(null);

  const input = () => ({
    period: periodInput(period), timeZone: period.tz,
    filter: { ...periodFilter(period), types: f.type ? [f.type] : null },
    search: f.search || null, statuses: f.status ? [f.status] : null, hangupBy: f.hangupBy ? [f.hangupBy] : null,
    transferred: f.transferred === '' ? null : f.transferred === 'true',
    waitMin: f.waitMin === '' ? null : Number(f.waitMin), waitMax: f.waitMax === '' ? null : Number(f.waitMax),
    orderBy: { field: sort.field, direction: sort.dir },
  });

  const load = async (after: string | null, stack: (string | null)[]) => {
    setBusy(true);
    setError('');
    setQuery({ ...periodToQuery(period), ...f, orderBy: sort.field, direction: sort.dir });
    try {
      const d = await gql<{ calls: { totalCount: number; edges: { node: CallRow }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } }>(
        `query Calls($input: CallsInput!, $first: Int, $after: Cursor) { calls(input: $input, first: $first, after: $after) { totalCount edges { node { ${CALL_FIELDS} } } pageInfo { hasNextPage endCursor } } }`,
        { input: input(), first: PAGE, after },
      );
      setData({ rows: d.calls.edges.map((e) => e.node), total: d.calls.totalCount, next: d.calls.pageInfo.hasNextPage ? d.calls.pageInfo.endCursor : null });
      setCursors(stack);
      const p = periodParams(period);
      for (const [k, v] of Object.entries(f)) if (v !== '') p.set(k, v); // the export's parameters are named like the filters
      p.set('orderBy', sort.field);
      p.set('direction', sort.dir);
      setParams(p);
    } catch (err) {
      setError((err as Error).message);
      setData(null);
    } finally {
      setBusy(false);
    }
  };
  useEffect(() => { load(null, [null]); }, [sort]);

  const sortHeader = (field: SortField, label: string) => {
    const active = sort.field === field;
    return (
      <th scope="col" class="num" aria-sort={active ? (sort.dir === 'ASC' ? 'ascending' : 'descending') : 'none'}>
        <button type="button" class="link" onClick={() => setSort({ field, dir: active && sort.dir === 'DESC' ? 'ASC' : 'DESC' })}>
          {label}{active ? (sort.dir === 'ASC' ? ' ▲' : ' ▼') : ''}
        </button>
      </th>
    );
  };
  const sel = (key: keyof typeof f, label: string, opts: [string, string][]) => (
    <label>{label}
      <select value={f[key]} onChange={(e) => setF({ ...f, [key]: (e.target as HTMLSelectElement).value })}>
        <option value="">{t('Any')}</option>
        {opts.map(([v, l]) => <option value={v}>{l}</option>)}
      </select>
    </label>
  );
  const page = cursors.length;
  return (
    <div class="report">
      <h1>{t('Calls')}</h1>
      <form class="filters" onSubmit={(e) => { e.preventDefault(); load(null, [null]); }}>
        <PeriodPicker value={period} onChange={setPeriod} queues={queues} />
        <fieldset class="period">
          <legend class="sr-only">{t('Filters')}</legend>
          <label>{t('Number or linkedid')}<input type="search" value={f.search} onInput={(e) => setF({ ...f, search: (e.target as HTMLInputElement).value })} /></label>
          {sel('status', t('Status'), [['answered', t('Answered')], ['missed', t('Missed')]])}
          {sel('type', t('Call type'), [['inbound', t('Incoming')], ['outbound', t('Outgoing')], ['internal', t('Internal')]])}
          {sel('hangupBy', t('Who hung up'), ['caller', 'callee', 'operator', 'system', 'unknown'].map((h) => [h, hangupLabel(h)]))}
          {sel('transferred', t('Transferred'), [['true', t('Yes')], ['false', t('No')]])}
          <label>{t('Wait from, s')}<input type="number" min="0" value={f.waitMin} onInput={(e) => setF({ ...f, waitMin: (e.target as HTMLInputElement).value })} size={5} /></label>
          <label>{t('Wait to, s')}<input type="number" min="0" value={f.waitMax} onInput={(e) => setF({ ...f, waitMax: (e.target as HTMLInputElement).value })} size={5} /></label>
        </fieldset>
        <div class="actions">
          <button type="submit" disabled={busy}>{busy ? t('Loading…') : t('Show')}</button>
          {params && <ExportButtons report="calls" params={params} />}
        </div>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      {data && (
        <section aria-labelledby="calls-count">
          <p id="calls-count" class="period-title"><span data-testid="calls-total" data-total={data.total}>{tn('{n} call found', '{n} calls found', data.total)}</span> <span class="muted">· {t('Times in {zone}', { zone: zoneLabel(period.tz) })}</span></p>
          <div class="scroll">
            <table class="grid calls" data-testid="calls-table">
              <thead><tr>
                {sortHeader('START', t('Start'))}
                <th scope="col"><span class="sr-only">{t('Recording')}</span></th>
                <th scope="col">{t('Type')}</th>
                <th scope="col">{t('Status')}</th>
                <th scope="col">{t('Caller')}</th>
                <th scope="col">{t('Dialed')}</th>
                <th scope="col">{t('Queues')}</th>
                <th scope="col">{t('Answered by')}</th>
                <th scope="col">{t('Missed by')}</th>
                {sortHeader('WAIT', t('Wait'))}
                {sortHeader('TALK', t('Talk'))}
                <th scope="col" class="num">{t('Talk w/o hold')}</th>
                <th scope="col" class="num">{t('Hold')}</th>
                {sortHeader('END', t('End'))}
                <th scope="col">{t('Hung up')}</th>
                <th scope="col">{t('Transfer')}</th>
              </tr></thead>
              <tbody>
                {data.rows.map((c) => (
                  <tr key={c.id} class={c.status === 'missed' ? 'missed' : ''}>
                    <td class="num"><a href={`/calls/${encodeURIComponent(c.id)}`} data-testid="call-link">{fmtDateTime(c.start, period.tz)}</a></td>
                    <td>{(c.recordings ?? []).length ? <span title={t('Recording')} aria-label={t('Recording')}>●</span> : null}</td>
                    <td>{typeLabel(c.type)}</td>
                    <td>{callStatusLabel(c.status)}{c.missedReason ? <span class="muted small"> ({c.missedReason})</span> : null}</td>
                    <td>{c.callerNumber || '—'}{c.callerName && c.callerName !== c.callerNumber ? <span class="muted small"> {c.callerName}</span> : null}</td>
                    <td>{c.dialed || c.calleeNumber || '—'}</td>
                    <td>{(c.queues ?? []).join(', ')}</td>
                    <td>{c.answeredByName || c.answeredByNumber || '—'}</td>
                    <td class="small">{(c.missedByOperators ?? []).join(', ')}</td>
                    <td class="num">{fmtDur(c.waitSeconds)}</td>
                    <td class="num">{fmtDur(c.talkSeconds)}</td>
                    <td class="num">{fmtDur(c.talkWithoutHoldSeconds)}</td>
                    <td class="num">{fmtDur(c.holdSeconds)}</td>
                    <td class="num">{fmtDateTime(c.end, period.tz)}</td>
                    <td>{hangupLabel(c.hangupBy)}</td>
                    <td>{c.transferred ? t('Yes') : ''}</td>
                  </tr>
                ))}
                {!data.rows.length && <tr><td colSpan={16} class="muted">{t('No calls match.')}</td></tr>}
              </tbody>
            </table>
          </div>
          <nav class="pager" aria-label={t('Pages')}>
            <button type="button" disabled={busy || page <= 1} onClick={() => { const s = cursors.slice(0, -1); load(s[s.length - 1], s); }}>{t('← Previous')}</button>
            <span>{t('Page {n}', { n: page })}</span>
            <button type="button" disabled={busy || !data.next} onClick={() => load(data.next, [...cursors, data.next])}>{t('Next →')}</button>
          </nav>
        </section>
      )}
    </div>
  );
}
