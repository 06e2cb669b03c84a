// The operator report: answered and missed rings, talk and hold, time logged in and
// paused, occupancy, and time per status and pause reason.
import { useEffect, useState } from 'preact/hooks';
import { gql } from '../api';
import { BarChart, COLORS } from '../components/charts';
import { ExportButtons } from '../components/export';
import { PeriodPicker, periodFilter, periodFromQuery, periodInput, periodParams, periodToQuery, type PeriodState } from '../components/period';
import { useQueues } from '../data';
import { fmtDateTime, fmtDur, fmtNum, fmtPct, t, zoneLabel } from '../i18n';
import { setQuery, useLocation } from '../router';
import { statusLabel } from './live';

interface StatusTime { status: string; reason: string; seconds: number }
interface Row {
  operatorID: string | null; number: string; name: string; answered: number; missed: number; talkSeconds: number; holdSeconds: number;
  averageTalk: number | null; averageHold: number | null; loggedInSeconds: number; pausedSeconds: number; occupancy: number | null; statuses: StatusTime[];
}
const ROW = 'operatorID number name answered missed talkSeconds holdSeconds averageTalk averageHold loggedInSeconds pausedSeconds occupancy statuses { status reason seconds }';
interface Report { timeZone: string; from: string; to: string; rows: Row[]; totals: Row }

export function usePeriodReport<T>(query: string, field: string, extra: () => Record<string, unknown> = () => ({})) {
  const loc = useLocation();
  const [period, setPeriod] = useState<PeriodState>(() => periodFromQuery(loc.query));
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const [params, setParams] = useState<URLSearchParams | null>(null);
  const run = async (e?: Event) => {
    e?.preventDefault();
    setBusy(true);
    setError('');
    setQuery(periodToQuery(period));
    try {
      const input = { period: periodInput(period), timeZone: period.tz, filter: periodFilter(period), ...extra() };
      const d = await gql<Record<string, T>>(query, { input });
      setData(d[field]);
      setParams(periodParams(period));
    } catch (err) {
      setError((err as Error).message);
      setData(null);
    } finally {
      setBusy(false);
    }
  };
  useEffect(() => { run(); }, []);
  return { period, setPeriod, data, error, busy, run, params };
}

export function OperatorReport() {
  const queues = useQueues();
  const r = usePeriodReport<Report>(`query Operators($input: OperatorReportInput!) { operatorReport(input: $input) { timeZone from to rows { ${ROW} } totals { ${ROW} } } }`, 'operatorReport');
  const d = r.data;
  return (
    <div class="report">
      <h1>{t('Operator report')}</h1>
      <form class="filters" onSubmit={r.run}>
        <PeriodPicker value={r.period} onChange={r.setPeriod} queues={queues} />
        <div class="actions">
          <button type="submit" disabled={r.busy}>{r.busy ? t('Loading…') : t('Show')}</button>
          {r.params && <ExportButtons report="operators" params={r.params} />}
        </div>
      </form>
      {r.error && <p class="error" role="alert">{r.error}</p>}
      {d && (
        <section>
          <h2 class="period-title">{fmtDateTime(d.from, d.timeZone)} — {fmtDateTime(d.to, d.timeZone)} <span class="muted">· {zoneLabel(d.timeZone)}</span></h2>
          <BarChart title={t('Answered and missed by operator')} labels={d.rows.map((x) => x.name || x.number)} height={180}
            series={[
              { label: t('Answered'), color: COLORS.answered, values: d.rows.map((x) => x.answered) },
              { label: t('Missed'), color: COLORS.missed, values: d.rows.map((x) => x.missed) },
            ]} />
          <div class="scroll">
            <table class="grid" data-testid="operator-table">
              <thead><tr>
                <th scope="col">{t('Operator')}</th>
                <th scope="col" class="num">{t('Answered')}</th>
                <th scope="col" class="num">{t('Missed')}</th>
                <th scope="col" class="num">{t('Talk time')}</th>
                <th scope="col" class="num">{t('Avg talk')}</th>
                <th scope="col" class="num">{t('Hold time')}</th>
                <th scope="col" class="num">{t('Logged in')}</th>
                <th scope="col" class="num">{t('Paused')}</th>
                <th scope="col" class="num">{t('Occupancy')}</th>
                <th scope="col">{t('Time by status')}</th>
              </tr></thead>
              <tbody>{d.rows.map((x) => <ORow r={x} />)}
                {!d.rows.length && <tr><td colSpan={10} class="muted">{t('No calls in this period.')}</td></tr>}
              </tbody>
              <tfoot><ORow r={d.totals} total /></tfoot>
            </table>
          </div>
        </section>
      )}
    </div>
  );
}

function ORow({ r, total }: { r: Row; total?: boolean }) {
  return (
    <tr class={total ? 'total' : ''}>
      <th scope="row">{total ? t('Total') : `${r.name || '—'} (${r.number})`}</th>
      <td class="num">{fmtNum(r.answered)}</td>
      <td class="num">{fmtNum(r.missed)}</td>
      <td class="num">{fmtDur(r.talkSeconds)}</td>
      <td class="num">{fmtDur(r.averageTalk)}</td>
      <td class="num">{fmtDur(r.holdSeconds)}</td>
      <td class="num">{fmtDur(r.loggedInSeconds)}</td>
      <td class="num">{fmtDur(r.pausedSeconds)}</td>
      <td class="num">{fmtPct(r.occupancy)}</td>
      <td class="small">{r.statuses.filter((s) => s.seconds > 0).map((s) => `${statusLabel(s.status.toUpperCase())}${s.reason ? ' (' + s.reason + ')' : ''} ${fmtDur(s.seconds)}`).join('; ')}</td>
    </tr>
  );
}
