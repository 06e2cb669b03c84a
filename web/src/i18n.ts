// Messages come from gettext catalogs (web/i18n/*.po, compiled to JSON at build
// time by scripts/po2json.mjs); msgids are the English texts. Numbers, dates and
// durations are formatted with Intl for the current locale.
export type Lang = 'ru' | 'en';
type Catalog = Record<string, string | string[]>;

const loaders: Record<Lang, () => Promise<{ default: Catalog }>> = {
  ru: () => import('./i18n/ru.json'),
  en: () => import('./i18n/en.json'),
};

let lang: Lang = 'en';
let catalog: Catalog = {};
let plural = new Intl.PluralRules('en');
const pluralOrder: Record<Lang, Intl.LDMLPluralRule[]> = { ru: ['one', 'few', 'many', 'other'], en: ['one', 'other'] };

export function currentLang(): Lang {
  return lang;
}

export async function setLang(l: Lang) {
  catalog = (await loaders[l]()).default;
  lang = l;
  plural = new Intl.PluralRules(l);
  numCache.clear();
  document.documentElement.lang = l;
  localStorage.setItem('linkage.lang', l);
}

/** The language before sign-in: the one chosen on this browser, else the browser's. */
export function initialLang(): Lang {
  const saved = localStorage.getItem('linkage.lang');
  if (saved === 'ru' || saved === 'en') return saved;
  for (const l of navigator.languages ?? [navigator.language]) {
    if (l.toLowerCase().startsWith('ru')) return 'ru';
    if (l.toLowerCase().startsWith('en')) return 'en';
  }
  return 'en';
}

function interpolate(s: string, vars?: Record<string, string | number>): string {
  if (!vars) return s;
  return s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
}

/** Translates msgid (English), then fills {name} placeholders. */
export function t(msgid: string, vars?: Record<string, string | number>): string {
  const s = catalog[msgid];
  return interpolate(typeof s === 'string' ? s : msgid, vars);
}

/** Plural forms by count, e.g. tn(one, many, n) with {n} in the texts. */
export function tn(one: string, many: string, n: number, vars?: Record<string, string | number>): string {
  const forms = catalog[one];
  let s: string;
  if (Array.isArray(forms)) {
    const i = pluralOrder[lang].indexOf(plural.select(n));
    s = forms[Math.max(0, Math.min(i, forms.length - 1))];
  } else {
    s = n === 1 ? one : many;
  }
  return interpolate(s, { n: fmtNum(n), ...vars });
}

const numCache = new Map<string, Intl.NumberFormat>();
function nf(key: string, opts: Intl.NumberFormatOptions): Intl.NumberFormat {
  let f = numCache.get(key);
  if (!f) numCache.set(key, (f = new Intl.NumberFormat(lang, opts)));
  return f;
}

export function fmtNum(n: number | null | undefined, digits = 0): string {
  if (n == null || Number.isNaN(n)) return '—';
  return nf('n' + digits, { maximumFractionDigits: digits, minimumFractionDigits: 0 }).format(n);
}

/** A percentage given as 0..100. */
export function fmtPct(p: number | null | undefined): string {
  if (p == null) return '—';
  return nf('pct', { style: 'percent', maximumFractionDigits: 1 }).format(p / 100);
}

/** Seconds as a clock: 0:07, 12:34, 1:02:03. */
export function fmtDur(sec: number | null | undefined): string {
  if (sec == null || Number.isNaN(sec)) return '—';
  const s = Math.max(0, Math.round(sec));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const pad = (x: number) => String(x).padStart(2, '0');
  return h ? `${h}:${pad(m)}:${pad(r)}` : `${m}:${pad(r)}`;
}

const dtCache = new Map<string, Intl.DateTimeFormat>();
function df(kind: string, zone: string, opts: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = lang + kind + zone;
  let f = dtCache.get(key);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat(lang, { ...opts, timeZone: zone || undefined });
    } catch {
      f = new Intl.DateTimeFormat(lang, { ...opts, timeZone: 'UTC' });
    }
    dtCache.set(key, f);
  }
  return f;
}

export function fmtDateTime(iso: string | Date | null | undefined, zone: string): string {
  if (!iso) return '—';
  return df('dt', zone, { dateStyle: 'short', timeStyle: 'medium' }).format(new Date(iso));
}
export function fmtTime(iso: string | Date | null | undefined, zone: string): string {
  if (!iso) return '—';
  return df('t', zone, { timeStyle: 'medium' }).format(new Date(iso));
}
export function fmtDate(iso: string | Date, zone: string): string {
  return df('d', zone, { dateStyle: 'medium' }).format(new Date(iso));
}

/** "Europe/Moscow (UTC+3)": the zone, always visible next to times. */
export function zoneLabel(zone: string): string {
  try {
    const parts = new Intl.DateTimeFormat('en', { timeZone: zone, timeZoneName: 'shortOffset' }).formatToParts(new Date());
    const off = parts.find((p) => p.type === 'timeZoneName')?.value.replace('GMT', 'UTC') ?? '';
    return `${zone} (${off === 'UTC' ? 'UTC+0' : off})`;
  } catch {
    return zone;
  }
}

export function browserZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** The instant of local midnight of date (YYYY-MM-DD) in zone, as RFC 3339. */
export function zonedMidnight(date: string, zone: string): string {
  const [y, m, d] = date.split('-').map(Number);
  let guess = Date.UTC(y, m - 1, d);
  for (let i = 0; i < 3; i++) {
    const off = zoneOffsetMs(new Date(guess), zone);
    const next = Date.UTC(y, m - 1, d) - off;
    if (next === guess) break;
    guess = next;
  }
  return new Date(guess).toISOString();
}

function zoneOffsetMs(at: Date, zone: string): number {
  const p = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
    }).formatToParts(at).map((x) => [x.type, x.value]),
  );
  const asUTC = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second);
  return asUTC - Math.floor(at.getTime() / 1000) * 1000;
}

/** Today's date (YYYY-MM-DD) in zone. */
export function todayIn(zone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
}
