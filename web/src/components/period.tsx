// The period, time zone and queue choice every report shares. The state lives in the
// URL (?preset=TODAY&tz=...), so a report is a link that can be sent to a colleague.
import { useMemo } from 'preact/hooks';
import { browserZone, t, todayIn, zonedMidnight, zoneLabel } from '../i18n';
import { operatorLabel, queueLabel, useOperators, type QueueRef } from '../data';

/** The GraphQL ReportFilter of the picker's choices (null: everything in scope). */
export function periodFilter(p: PeriodState): Record<string, string[]> | null {
  const f: Record<string, string[]> = {};
  if (p.queues.length) f.queueIDs = p.queues;
  if (p.operators.length) f.operatorIDs = p.operators;
  return Object.keys(f).length ? f : null;
}

export type Preset = 'TODAY' | 'YESTERDAY' | 'THIS_WEEK' | 'THIS_MONTH' | 'LAST_7_DAYS' | 'LAST_30_DAYS' | 'CUSTOM';
export interface PeriodState { preset: Preset; from: string; to: string; tz: string; queues: string[]; operators: string[] }

export function presetLabel(p: Preset): string {
  switch (p) {
    case 'TODAY': return t('Today');
    case 'YESTERDAY': return t('Yesterday');
    case 'THIS_WEEK': return t('This week');
    case 'THIS_MONTH': return t('This month');
    case 'LAST_7_DAYS': return t('Last 7 days');
    case 'LAST_30_DAYS': return t('Last 30 days');
    case 'CUSTOM': return t('Custom range');
  }
}

export function periodFromQuery(q: URLSearchParams): PeriodState {
  const tz = q.get('tz') || browserZone();
  const today = todayIn(tz);
  return {
    preset: (q.get('preset') as Preset) || 'TODAY',
    from: q.get('from') || today,
    to: q.get('to') || today,
    tz,
    queues: q.getAll('queue').flatMap((s) => s.split(',')).filter(Boolean),
    operators: q.getAll('operator').flatMap((s) => s.split(',')).filter(Boolean),
  };
}

export function periodToQuery(p: PeriodState): Record<string, string | undefined> {
  return {
    preset: p.preset,
    from: p.preset === 'CUSTOM' ? p.from : undefined,
    to: p.preset === 'CUSTOM' ? p.to : undefined,
    tz: p.tz,
    queue: p.queues.join(',') || undefined,
    operator: p.operators.join(',') || undefined,
  };
}

/** The GraphQL PeriodInput: a preset, or [from midnight, the day after `to`) in the zone. */
export function periodInput(p: PeriodState): Record<string, string> {
  if (p.preset !== 'CUSTOM') return { preset: p.preset };
  const d = new Date(p.to + 'T00:00:00Z');
  d.setUTCDate(d.getUTCDate() + 1);
  return { from: zonedMidnight(p.from, p.tz), to: zonedMidnight(d.toISOString().slice(0, 10), p.tz) };
}

/** The same period as export URL parameters. */
export function periodParams(p: PeriodState): URLSearchParams {
  const u = new URLSearchParams();
  if (p.preset === 'CUSTOM') {
    const pi = periodInput(p);
    u.set('from', pi.from);
    u.set('to', pi.to);
  } else u.set('preset', p.preset);
  u.set('timeZone', p.tz);
  if (p.queues.length) u.set('queue', p.queues.join(','));
  if (p.operators.length) u.set('operator', p.operators.join(','));
  return u;
}

const PRESETS: Preset[] = ['TODAY', 'YESTERDAY', 'THIS_WEEK', 'THIS_MONTH', 'LAST_7_DAYS', 'LAST_30_DAYS', 'CUSTOM'];

export function PeriodPicker({ value, onChange, queues }: { value: PeriodState; onChange: (p: PeriodState) => void; queues: QueueRef[] }) {
  const zones = useMemo(() => {
    const set = new Set<string>([browserZone(), 'UTC', ...queues.map((q) => q.timezone || q.server?.timezone || '').filter(Boolean)]);
    return [...set];
  }, [queues]);
  const allZones = useMemo(() => {
    try { return (Intl as unknown as { supportedValuesOf(k: string): string[] }).supportedValuesOf('timeZone'); } catch { return []; }
  }, []);
  const set = (patch: Partial<PeriodState>) => onChange({ ...value, ...patch });
  const operators = useOperators();
  return (
    <fieldset class="period">
      <legend class="sr-only">{t('Period')}</legend>
      <label>
        {t('Period')}
        <select value={value.preset} onChange={(e) => set({ preset: (e.target as HTMLSelectElement).value as Preset })} data-testid="preset">
          {PRESETS.map((p) => <option value={p}>{presetLabel(p)}</option>)}
        </select>
      </label>
      {value.preset === 'CUSTOM' && (
        <>
          <label>{t('From')}<input type="date" value={value.from} required onInput={(e) => set({ from: (e.target as HTMLInputElement).value })} /></label>
          <label>{t('To (inclusive)')}<input type="date" value={value.to} min={value.from} required onInput={(e) => set({ to: (e.target as HTMLInputElement).value })} /></label>
        </>
      )}
      <label>
        {t('Time zone')}
        <input list="tz-list" value={value.tz} onChange={(e) => set({ tz: (e.target as HTMLInputElement).value || browserZone() })} size={18} />
        <datalist id="tz-list">{[...zones, ...allZones.filter((z) => !zones.includes(z))].map((z) => <option value={z} />)}</datalist>
      </label>
      <label>
        {t('Queues')}
        <select multiple size={Math.min(4, Math.max(2, queues.length))} value={value.queues as unknown as string}
          onChange={(e) => {
            const sel = [...(e.target as HTMLSelectElement).selectedOptions].map((o) => o.value);
            const one = sel.length === 1 ? queues.find((q) => q.id === sel[0]) : undefined;
            set({ queues: sel, ...(one && (one.timezone || one.server?.timezone) ? { tz: (one.timezone || one.server?.timezone)! } : {}) });
          }}>
          {queues.map((q) => <option value={q.id} selected={value.queues.includes(q.id)}>{queueLabel(q)}</option>)}
        </select>
      </label>
      <label>
        {t('Operators')}
        <select multiple size={Math.min(4, Math.max(2, operators.length))}
          onChange={(e) => set({ operators: [...(e.target as HTMLSelectElement).selectedOptions].map((o) => o.value) })}>
          {operators.map((o) => <option value={o.id} selected={value.operators.includes(o.id)}>{operatorLabel(o)}</option>)}
        </select>
      </label>
      <p class="muted small zone-note">{t('Times in {zone}', { zone: zoneLabel(value.tz) })}</p>
    </fieldset>
  );
}
