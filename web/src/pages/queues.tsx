// The queue report: visits received, answered, abandoned, service level, speed of
// answer, and the wait-time distribution.
import { BarChart, COLORS } from '../components/charts';
import { ExportButtons } from '../components/export';
import { PeriodPicker } from '../components/period';
import { useQueues } from '../data';
import { fmtDateTime, fmtDur, fmtNum, fmtPct, t, zoneLabel } from '../i18n';
import { usePeriodReport } from './operators';

interface WaitBucket { fromSeconds: number; toSeconds: number | null; answered: number; abandoned: number; unanswered: number }
interface Row {
  queueID: string | null; number: string; name: string; slThresholdSeconds: number | null; received: number; answered: number; abandoned: number; unanswered: number;
  answeredInSL: number; serviceLevel: number | null; averageSpeedOfAnswer: number | null; averageWait: number | null; longestWait: number; abandonRate: number | null;
  waitDistribution: WaitBucket[];
}
const ROW = 'queueID number name slThresholdSeconds received answered abandoned unanswered answeredInSL serviceLevel averageSpeedOfAnswer averageWait longestWait abandonRate waitDistribution { fromSeconds toSeconds answered abandoned unanswered }';
interface Report { timeZone: string; from: string; to: string; rows: Row[]; totals: Row }

const bucketName = (b: WaitBucket) => (b.toSeconds == null ? `≥ ${b.fromSeconds} ${t('s')}` : `${b.fromSeconds}–${b.toSeconds} ${t('s')}`);

export function QueueReport() {
  const queues = useQueues();
  const r = usePeriodReport<Report>(`query QueuesReport($input: QueueReportInput!) { queueReport(input: $input) { timeZone from to rows { ${ROW} } totals { ${ROW} } } }`, 'queueReport');
  const d = r.data;
  const dist = d?.totals.waitDistribution ?? [];
  return (
    <div class="report">
      <h1>{t('Queue report')}</h1>
      <form class="filters" onSubmit={r.run}>
        <PeriodPicker value={r.period} onChange={r.setPeriod} queues={queues} />
        <div class="actions">
          <button type="submit" disabled={r.busy}>{r.busy ? t('Loading…') : t('Show')}</button>
          {r.params && <ExportButtons report="queues" params={r.params} />}
        </div>
      </form>
      {r.error && <p class="error" role="alert">{r.error}</p>}
      {d && (
        <section>
          <h2 class="period-title">{fmtDateTime(d.from, d.timeZone)} — {fmtDateTime(d.to, d.timeZone)} <span class="muted">· {zoneLabel(d.timeZone)}</span></h2>
          <BarChart title={t('Wait-time distribution')} labels={dist.map(bucketName)} height={180}
            series={[
              { label: t('Answered'), color: COLORS.answered, values: dist.map((b) => b.answered) },
              { label: t('Abandoned'), color: COLORS.abandoned, values: dist.map((b) => b.abandoned) },
              { label: t('Unanswered'), color: COLORS.other, values: dist.map((b) => b.unanswered) },
            ]} />
          <div class="scroll">
            <table class="grid" data-testid="queue-table">
              <thead><tr>
                <th scope="col">{t('Queue')}</th>
                <th scope="col" class="num">{t('Received')}</th>
                <th scope="col" class="num">{t('Answered')}</th>
                <th scope="col" class="num">{t('Abandoned')}</th>
                <th scope="col" class="num">{t('Unanswered')}</th>
                <th scope="col" class="num">{t('Service level')}</th>
                <th scope="col" class="num">{t('Avg speed of answer')}</th>
                <th scope="col" class="num">{t('Avg wait')}</th>
                <th scope="col" class="num">{t('Longest wait')}</th>
                <th scope="col" class="num">{t('Abandon rate')}</th>
              </tr></thead>
              <tbody>{d.rows.map((x) => <QRow r={x} />)}
                {!d.rows.length && <tr><td colSpan={10} class="muted">{t('No calls in this period.')}</td></tr>}
              </tbody>
              <tfoot><QRow r={d.totals} total /></tfoot>
            </table>
          </div>
        </section>
      )}
    </div>
  );
}

function QRow({ r, total }: { r: Row; total?: boolean }) {
  return (
    <tr class={total ? 'total' : ''}>
      <th scope="row">{total ? t('Total') : `${r.name || r.number}${r.name && r.name !== r.number ? ' (' + r.number + ')' : ''}`}</th>
      <td class="num">{fmtNum(r.received)}</td>
      <td class="num">{fmtNum(r.answered)}</td>
      <td class="num">{fmtNum(r.abandoned)}</td>
      <td class="num">{fmtNum(r.unanswered)}</td>
      <td class="num" title={r.slThresholdSeconds ? t('Answered within {n} s', { n: r.slThresholdSeconds }) : undefined}>{fmtPct(r.serviceLevel)}</td>
      <td class="num">{fmtDur(r.averageSpeedOfAnswer)}</td>
      <td class="num">{fmtDur(r.averageWait)}</td>
      <td class="num">{fmtDur(r.longestWait)}</td>
      <td class="num">{fmtPct(r.abandonRate)}</td>
    </tr>
  );
}
