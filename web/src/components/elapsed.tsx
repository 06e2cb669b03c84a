// Ticking durations without re-rendering: one timer for the page writes the text
// of every <Elapsed> directly, so a board of 500 operators costs no diffing per second.
import { useEffect, useRef } from 'preact/hooks';
import { fmtDur } from '../i18n';

const live = new Map<HTMLElement, number>();
let timer: ReturnType<typeof setInterval> | undefined;
let skew = 0; // server time minus browser time, from the server's updatedAt stamps

export function setClockSkew(ms: number) {
  skew = ms;
}
export function serverNow(): number {
  return Date.now() + skew;
}

function tick() {
  const now = serverNow();
  for (const [el, since] of live) el.textContent = fmtDur((now - since) / 1000);
}

export function Elapsed({ since, class: cls }: { since: string; class?: string }) {
  const ref = useRef<HTMLSpanElement>(null);
  const t0 = Date.parse(since);
  useEffect(() => {
    const el = ref.current!;
    live.set(el, t0);
    el.textContent = fmtDur((serverNow() - t0) / 1000);
    if (!timer) timer = setInterval(tick, 1000);
    return () => {
      live.delete(el);
      if (!live.size && timer) {
        clearInterval(timer);
        timer = undefined;
      }
    };
  }, [t0]);
  return <span ref={ref} class={cls} data-since={since} />;
}
