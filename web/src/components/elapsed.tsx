// Ticking durations without re-rendering: one timer for the page writes the text
// of every visible <Elapsed> directly, so a board of 500 operators costs no diffing
// per second, and rows scrolled out of view cost nothing at all.
import { useEffect, useRef } from 'preact/hooks';
import { fmtDur } from '../i18n';

const since = new Map<HTMLElement, number>(); // every mounted element
const visible = new Set<HTMLElement>();
let timer: ReturnType<typeof setInterval> | undefined;
let skew = 0; // server time minus browser time
let io: IntersectionObserver | null = null;

export function setClockSkew(ms: number) {
  skew = ms;
}
export function serverNow(): number {
  return Date.now() + skew;
}

function write(el: HTMLElement, now: number) {
  const t0 = since.get(el);
  if (t0 === undefined) return;
  const s = fmtDur((now - t0) / 1000);
  if (el.textContent !== s) el.textContent = s;
}

function tick() {
  const now = serverNow();
  for (const el of visible) write(el, now);
}

function observer(): IntersectionObserver | null {
  if (!io && typeof IntersectionObserver !== 'undefined') {
    io = new IntersectionObserver((entries) => {
      const now = serverNow();
      for (const e of entries) {
        const el = e.target as HTMLElement;
        if (e.isIntersecting) {
          visible.add(el);
          write(el, now);
        } else visible.delete(el);
      }
    }, { rootMargin: '200px' });
  }
  return io;
}

export function Elapsed({ since: at, class: cls }: { since: string; class?: string }) {
  const ref = useRef<HTMLSpanElement>(null);
  const t0 = Date.parse(at);
  useEffect(() => {
    const el = ref.current!;
    since.set(el, t0);
    write(el, serverNow());
    const o = observer();
    if (o) o.observe(el);
    else visible.add(el);
    if (!timer) timer = setInterval(tick, 1000);
    return () => {
      since.delete(el);
      visible.delete(el);
      o?.unobserve(el);
      if (!since.size && timer) {
        clearInterval(timer);
        timer = undefined;
      }
    };
  }, [t0]);
  return <span ref={ref} class={cls} data-since={at} />;
}
