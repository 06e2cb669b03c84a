// The viewer's unhandled missed calls, counted live (missedCallCounts subscription):
// one subscription for the whole app, shared by the menu's badge and the list.
import { useEffect, useState } from 'preact/hooks';
import { subscribe } from './api';

export interface MissedCounts { total: number; queues: { queueID: string; unhandled: number; oldest: string | null }[] }

let current: MissedCounts | null = null;
let unsub: (() => void) | null = null;
const listeners = new Set<(c: MissedCounts | null) => void>();

function start() {
  unsub = subscribe<{ missedCallCounts: MissedCounts }>(
    'subscription MissedCounts { missedCallCounts { total queues { queueID unhandled oldest } } }', undefined,
    (d) => { current = d.missedCallCounts; listeners.forEach((f) => f(current)); },
    () => {},
  );
}

export function useMissedCounts(enabled: boolean): MissedCounts | null {
  const [c, set] = useState<MissedCounts | null>(current);
  useEffect(() => {
    if (!enabled) return;
    listeners.add(set);
    if (!unsub) start();
    set(current);
    return () => {
      listeners.delete(set);
      if (!listeners.size && unsub) { unsub(); unsub = null; current = null; }
    };
  }, [enabled]);
  return enabled ? c : null;
}
