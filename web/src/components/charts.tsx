// Small SVG charts drawn by hand (no chart library: the whole app stays a few dozen KB).
import { fmtNum } from '../i18n';

export interface Series { label: string; color: string; values: number[] }

/** Stacked bars over categories, optionally with a line (0..100) on a right axis. */
export function BarChart({ labels, series, line, title, height = 200 }: {
  labels: string[]; series: Series[]; line?: { label: string; color: string; values: (number | null)[] }; title: string; height?: number;
}) {
  const n = labels.length;
  if (!n) return null;
  const W = 1200, H = height, L = 40, R = line ? 48 : 8, T = 10, B = 34;
  const totals = labels.map((_, i) => series.reduce((s, x) => s + (x.values[i] || 0), 0));
  const max = niceMax(Math.max(1, ...totals));
  const bw = (W - L - R) / n;
  const barW = Math.min(bw * 0.7, 56); // a lone bar stays a bar, not a wall
  const y = (v: number) => T + (H - T - B) * (1 - v / max);
  const yl = (v: number) => T + (H - T - B) * (1 - v / 100);
  const every = Math.ceil(n / 16);
  const ticks = [0, max / 2, max];
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={title} preserveAspectRatio="xMidYMid meet">
        <title>{title}</title>
        {ticks.map((v) => (
          <g>
            <line x1={L} x2={W - R} y1={y(v)} y2={y(v)} class="gridline" />
            <text x={L - 4} y={y(v) + 4} text-anchor="end" class="axis">{fmtNum(v)}</text>
          </g>
        ))}
        {labels.map((lab, i) => {
          let acc = 0;
          return (
            <g>
              {series.map((s) => {
                const v = s.values[i] || 0;
                const r = <rect x={L + i * bw + (bw - barW) / 2} width={barW} y={y(acc + v)} height={Math.max(0, y(acc) - y(acc + v))} fill={s.color}><title>{`${lab}: ${s.label} ${fmtNum(v)}`}</title></rect>;
                acc += v;
                return r;
              })}
              {i % every === 0 && <text x={L + i * bw + bw / 2} y={H - B + 14} text-anchor="middle" class="axis">{lab}</text>}
            </g>
          );
        })}
        {line && (
          <>
            <polyline fill="none" stroke={line.color} stroke-width="2"
              points={line.values.map((v, i) => (v == null ? null : `${L + i * bw + bw / 2},${yl(v)}`)).filter(Boolean).join(' ')} />
            {line.values.map((v, i) => (v == null ? null : <circle cx={L + i * bw + bw / 2} cy={yl(v)} r="3.5" fill={line.color}><title>{`${labels[i]}: ${line.label} ${fmtNum(v, 1)}%`}</title></circle>))}
            {[0, 50, 100].map((v) => <text x={W - R + 4} y={yl(v) + 4} class="axis">{v}%</text>)}
          </>
        )}
      </svg>
      <figcaption class="legend">
        {series.map((s) => <span><i style={{ background: s.color }} />{s.label}</span>)}
        {line && <span><i class="line" style={{ background: line.color }} />{line.label}</span>}
      </figcaption>
    </figure>
  );
}

function niceMax(v: number): number {
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return v;
}

export const COLORS = { answered: '#2f7d32', missed: '#c62828', abandoned: '#ef6c00', outbound: '#1565c0', internal: '#6a1b9a', sl: '#00838f', other: '#757575' };
