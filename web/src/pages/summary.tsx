// The summary report: calls by period bucket, optionally split, with totals, a chart
// and exports. Every figure comes from summaryReport; nothing is recomputed here.
import { useEffect, useState } from 'preact/hooks';
import { gql } from '../api';
import { BarChart, COLORS } from '../components/charts';
import { ExportButtons } from '../components/export';
import { PeriodPicker, periodFilter, periodFromQuery, periodInput, periodParams, periodToQuery, type PeriodState } from '../components/period';
import { useQueues } from '../data';
import { currentLang, fmtDateTime, fmtDur, fmtNum, fmtPct, t, zoneLabel } from '../i18n';
import { setQuery, useLocation } from '../router';

export interface SummaryRow {
  bucket: string; bucketStart: string | null; splitID: string | null; splitName: string | null;
  inboundAnswered: number; inboundMissed: number; abandoned: number; outbound: number; internal: number; transferred: number;
  answeredInSL: number; talkSeconds: number; serviceLevel: number | null; averageWait: number | null; longestWait: number;
  averageTalk: number | null; abandonRate: number | null;
}
const ROW = 'bucket bucketStart splitID splitName inboundAnswered inboundMissed abandoned outbound internal transferred answeredInSL talkSeconds serviceLevel averageWait longestWait averageTalk abandonRate';
type Bucket = 'HOUR' | 'DAY' | 'WEEK' | 'MONTH' | 'DAY_OF_WEEK' | 'HOUR_OF_DAY';
type Split = 'NONE' | 'QUEUE' | 'OPERATOR' | 'GROUP' | 'TYPE' | 'TRUNK' | 'SERVER';

const bucketLabel = (b: Bucket) => ({ HOUR: t('Hour'), DAY: t('Day'), WEEK: t('Week'), MONTH: t('Month'), DAY_OF_WEEK: t('Day of week'), HOUR_OF_DAY: t('Hour of day') })[b];
const splitLabel = (s: Split) => ({ NONE: t('No split'), QUEUE: t('Queue'), OPERATOR: t('Operator'), GROUP: t('Group'), TYPE: t('Call type'), TRUNK: t('Trunk'), SERVER: t('Server') })[s];

/** A bucket key as the reader expects it in their language. */
export function fmtBucket(b: string, kind: Bucket, multiDay = false): string {
  if (b === 'total') return t('Total');
  try {
    if (kind === 'DAY_OF_WEEK') {
      const d = new Date(Date.UTC(2024, 0, Number(b))); // 2024-01-01 was a Monday
      return new Intl.DateTimeFormat(currentLang(), { weekday: 'short', timeZone: 'UTC' }).format(d);
    }
    if (kind === 'HOUR_OF_DAY') return `${b}:00`;
    if (kind === 'DAY') return new Intl.DateTimeFormat(currentLang(), { day: 'numeric', month: 'short', timeZone: 'UTC' }).format(new Date(b + 'T00:00:00Z'));
    if (kind === 'MONTH') return new Intl.DateTimeFormat(currentLang(), { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(new Date(b + '-01T00:00:00Z'));
    if (kind === 'HOUR') return multiDay ? b.slice(5) : b.slice(11) || b;
  } catch { /* fall through to the key itself */ }
  return b;
}

const WEEKDAYS = [1, 2, 3, 4, 5, 6, 7];

export function SummaryReport() {
  const { query } = useLocation();
  const queues = useQueues();
  const [period, setPeriod] = useState<PeriodState>(() => periodFromQuery(query));
  const [bucket, setBucket] = useState<Bucket>((query.get('bucket') as Bucket) || 'HOUR');
  const [split, setSplit] = useState<Split>((query.get('split') as Split) || 'NONE');
  const [wh, setWh] = useState({ on: !!query.get('hours'), from: query.get('hours')?.split('-')[0] || '09:00', to: query.get('hours')?.split('-')[1] || '18:00', days: (query.get('days') || '1,2,3,4,5').split(',').map(Number) });
  const [data, setData] = useState<{ timeZone: string; from: string; to: string; rows: SummaryRow[]; totals: SummaryRow } | null>(null);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const [shown, setShown] = useState<{ bucket: Bucket; split: Split; params: URLSearchParams } | null>(null);

  const run = async (e?: Event) => {
    e?.preventDefault();
    setBusy(true);
    setError('');
    const input: Record<string, unknown> = {
      period: periodInput(period), timeZone: period.tz, bucket, splitBy: split,
      filter: periodFilter(period),
      workingHours: wh.on ? { days: wh.days, from: wh.from, to: wh.to } : null,
    };
    setQuery({ ...periodToQuery(period), bucket, split, hours: wh.on ? `${wh.from}-${wh.to}` : undefined, days: wh.on ? wh.days.join(',') : undefined });
    const params = periodParams(period);
    params.set('bucket', bucket);
    params.set('split', split);
    if (wh.on) { params.set('hours', `${wh.from}-${wh.to}`); params.set('days', wh.days.join(',')); }
    try {
      const d = await gql<{ summaryReport: typeof data }>(
        `query Summary($input: SummaryInput!) { summaryReport(input: $input) { timeZone from to rows { ${ROW} } totals { ${ROW} } } }`, { input });
      setData(d.summaryReport);
      setShown({ bucket, split, params });
    } catch (err) {
      setError((err as Error).message);
      setData(null);
    } finally {
      setBusy(false);
    }
  };
  useEffect(() => { run(); }, []);

  return (
    <div class="report">
      <h1>{t('Summary report')}</h1>
      <form class="filters" onSubmit={run}>
        <PeriodPicker value={period} onChange={setPeriod} queues={queues} />
        <fieldset class="period">
          <legend class="sr-only">{t('Grouping')}</legend>
          <label>{t('Group by')}
            <select value={bucket} onChange={(e) => setBucket((e.target as HTMLSelectElement).value as Bucket)} data-testid="bucket">
              {(['HOUR', 'DAY', 'WEEK', 'MONTH', 'DAY_OF_WEEK', 'HOUR_OF_DAY'] as Bucket[]).map((b) => <option value={b}>{bucketLabel(b)}</option>)}
            </select>
          </label>
          <label>{t('Split by')}
            <select value={split} onChange={(e) => setSplit((e.target as HTMLSelectElement).value as Split)}>
              {(['NONE', 'QUEUE', 'OPERATOR', 'GROUP', 'TYPE', 'TRUNK', 'SERVER'] as Split[]).map((s) => <option value={s}>{splitLabel(s)}</option>)}
            </select>
          </label>
          <label class="check"><input type="checkbox" checked={wh.on} onChange={(e) => setWh({ ...wh, on: (e.target as HTMLInputElement).checked })} />{t('Working hours only')}</label>
          {wh.on && (
            <>
              <label>{t('From')}<input type="time" value={wh.from} onInput={(e) => setWh({ ...wh, from: (e.target as HTMLInputElement).value })} /></label>
              <label>{t('To')}<input type="time" value={wh.to} onInput={(e) => setWh({ ...wh, to: (e.target as HTMLInputElement).value })} /></label>
              <span class="days" role="group" aria-label={t('Days of week')}>
                {WEEKDAYS.map((d) => (
                  <label class="check"><input type="checkbox" checked={wh.days.includes(d)} onChange={(e) => setWh({ ...wh, days: (e.target as HTMLInputElement).checked ? [...wh.days, d].sort() : wh.days.filter((x) => x !== d) })} />{fmtBucket(String(d), 'DAY_OF_WEEK')}</label>
                ))}
              </span>
            </>
          )}
        </fieldset>
        <div class="actions">
          <button type="submit" disabled={busy} data-testid="show">{busy ? t('Loading…') : t('Show')}</button>
          {shown && <ExportButtons report="summary" params={shown.params} />}
        </div>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      {data && shown && <SummaryView data={data} bucket={shown.bucket} split={shown.split} />}
    </div>
  );
}

function SummaryView({ data, bucket, split }: { data: { timeZone: string; from: string; to: string; rows: SummaryRow[]; totals: SummaryRow }; bucket: Bucket; split: Split }) {
  const tot = data.totals;
  // The chart shows buckets; with a split, each bucket sums its split rows.
  const byBucket = new Map<string, { a: number; m: number; o: number; sl: number | null }>();
  for (const r of data.rows) {
    const b = byBucket.get(r.bucket) ?? { a: 0, m: 0, o: 0, sl: null };
    b.a += r.inboundAnswered; b.m += r.inboundMissed; b.o += r.outbound;
    b.sl = split === 'NONE' ? r.serviceLevel : null;
    byBucket.set(r.bucket, b);
  }
  const keys = [...byBucket.keys()];
  const multiDay = bucket === 'HOUR' && new Set(keys.map((k) => k.slice(0, 10))).size > 1;
  return (
    <section aria-labelledby="sum-res">
      <h2 id="sum-res" class="period-title">
        {fmtDateTime(data.from, data.timeZone)} — {fmtDateTime(data.to, data.timeZone)} <span class="muted">· {zoneLabel(data.timeZone)}</span>
      </h2>
      <dl class="kpis" data-testid="summary-totals">
        <div><dt>{t('Incoming answered')}</dt><dd data-testid="tot-answered">{fmtNum(tot.inboundAnswered)}</dd></div>
        <div><dt>{t('Incoming missed')}</dt><dd data-testid="tot-missed">{fmtNum(tot.inboundMissed)}</dd></div>
        <div><dt>{t('Abandoned')}</dt><dd data-testid="tot-abandoned">{fmtNum(tot.abandoned)}</dd></div>
        <div><dt>{t('Outgoing')}</dt><dd data-testid="tot-outbound">{fmtNum(tot.outbound)}</dd></div>
        <div><dt>{t('Service level')}</dt><dd data-testid="tot-sl">{fmtPct(tot.serviceLevel)}</dd></div>
        <div><dt>{t('Avg wait')}</dt><dd>{fmtDur(tot.averageWait)}</dd></div>
        <div><dt>{t('Avg talk')}</dt><dd>{fmtDur(tot.averageTalk)}</dd></div>
      </dl>
      <BarChart title={t('Calls by {bucket}', { bucket: bucketLabel(bucket).toLowerCase() })} labels={keys.map((k) => fmtBucket(k, bucket, multiDay))}
        series={[
          { label: t('Answered'), color: COLORS.answered, values: keys.map((k) => byBucket.get(k)!.a) },
          { label: t('Missed'), color: COLORS.missed, values: keys.map((k) => byBucket.get(k)!.m) },
          { label: t('Outgoing'), color: COLORS.outbound, values: keys.map((k) => byBucket.get(k)!.o) },
        ]}
        line={split === 'NONE' ? { label: t('Service level'), color: COLORS.sl, values: keys.map((k) => byBucket.get(k)!.sl) } : undefined} />
      <div class="scroll">
        <table class="grid" data-testid="summary-table">
          <thead>
            <tr>
              <th scope="col">{bucketLabel(bucket)}</th>
              {split !== 'NONE' && <th scope="col">{splitLabel(split)}</th>}
              <th scope="col" class="num">{t('Answered')}</th>
              <th scope="col" class="num">{t('Missed')}</th>
              <th scope="col" class="num">{t('Abandoned')}</th>
              <th scope="col" class="num">{t('Outgoing')}</th>
              <th scope="col" class="num">{t('Internal')}</th>
              <th scope="col" class="num">{t('Transferred')}</th>
              <th scope="col" class="num">{t('Service level')}</th>
              <th scope="col" class="num">{t('Avg wait')}</th>
              <th scope="col" class="num">{t('Longest wait')}</th>
              <th scope="col" class="num">{t('Avg talk')}</th>
              <th scope="col" class="num">{t('Talk time')}</th>
              <th scope="col" class="num">{t('Abandon rate')}</th>
            </tr>
          </thead>
          <tbody>
            {data.rows.map((r) => <SumRow r={r} bucket={bucket} split={split} multiDay={multiDay} />)}
            {!data.rows.length && <tr><td colSpan={14} class="muted">{t('No calls in this period.')}</td></tr>}
          </tbody>
          <tfoot><SumRow r={tot} bucket={bucket} split={split} total /></tfoot>
        </table>
      </div>
    </section>
  );
}

function SumRow({ r, bucket, split, total, multiDay }: { r: SummaryRow; bucket: Bucket; split: Split; total?: boolean; multiDay?: boolean }) {
  return (
    <tr class={total ? 'total' : ''}>
      <th scope="row">{total ? t('Total') : fmtBucket(r.bucket, bucket, multiDay)}</th>
      {split !== 'NONE' && <td>{total ? '' : r.splitName || '—'}</td>}
      <td class="num">{fmtNum(r.inboundAnswered)}</td>
      <td class="num">{fmtNum(r.inboundMissed)}</td>
      <td class="num">{fmtNum(r.abandoned)}</td>
      <td class="num">{fmtNum(r.outbound)}</td>
      <td class="num">{fmtNum(r.internal)}</td>
      <td class="num">{fmtNum(r.transferred)}</td>
      <td class="num">{fmtPct(r.serviceLevel)}</td>
      <td class="num">{fmtDur(r.averageWait)}</td>
      <td class="num">{fmtDur(r.longestWait)}</td>
      <td class="num">{fmtDur(r.averageTalk)}</td>
      <td class="num">{fmtDur(r.talkSeconds)}</td>
      <td class="num">{fmtPct(r.abandonRate)}</td>
    </tr>
  );
}
