// A supervisor's controls for one operator on the live board (queues.membership):
// pause or resume them, and put them in or take them out of the queues of their
// server. Membership shown is the live board's, i.e. what Asterisk reported.
import { useEffect, useState } from 'preact/hooks';
import { gql } from '../api';
import { t } from '../i18n';
import type { LiveOperator, LiveQueue } from '../pages/live';
import { statusLabel } from '../pages/live';
import { Elapsed } from './elapsed';
import { PauseControl, QueueToggle } from './opcontrols';

const reasonsCache = new Map<string, Promise<string[]>>();
function reasonsFor(server: string): Promise<string[]> {
  let p = reasonsCache.get(server);
  if (!p) {
    p = gql<{ pauseReasons: { edges: { node: { name: string; serverID: string | null; enabled: boolean; position: number } }[] } }>(
      'query Reasons { pauseReasons(first: 200) { edges { node { name serverID enabled position } } } }',
    ).then((d) => d.pauseReasons.edges.map((e) => e.node).filter((r) => r.enabled && (!r.serverID || r.serverID === server))
      .sort((a, b) => a.position - b.position).map((r) => r.name))
      .catch(() => { reasonsCache.delete(server); return []; });
    reasonsCache.set(server, p);
  }
  return p;
}

export function OperatorPanel({ o, queues, onClose }: { o: LiveOperator; queues: LiveQueue[]; onClose: () => void }) {
  const [reasons, setReasons] = useState<string[]>([]);
  useEffect(() => { reasonsFor(o.server).then(setReasons); }, [o.server]);
  const name = o.name || o.interface;
  return (
    <section class="card op-panel" aria-labelledby="op-panel-title" data-testid="operator-panel" data-operator={o.operatorId}>
      <div class="section-head">
        <h3 id="op-panel-title">{t('Queues and pause of {name}', { name })}</h3>
        <span class={'status st-' + o.status} data-testid="panel-status" data-status={o.status}>{statusLabel(o.status)}</span>
        {o.reason && <span>{o.reason}</span>}
        <Elapsed since={o.since} />
        <span class="spacer" />
        <button type="button" class="secondary" onClick={onClose}>{t('Close')}</button>
      </div>
      <PauseControl paused={o.status === 'PAUSED'} reasons={reasons} operatorID={o.operatorId} onDone={() => {}} idPrefix={'op' + o.operatorId} />
      <ul class="toggles">
        {queues.filter((q) => q.queueId !== '0').map((q) => {
          const m = q.members.find((x) => x.interface === o.interface || (x.operatorId !== '0' && x.operatorId === o.operatorId));
          return <QueueToggle key={q.queueId} queueID={q.queueId} label={q.name} member={!!m} paused={m?.paused} operatorID={o.operatorId} onDone={() => {}} />;
        })}
      </ul>
    </section>
  );
}
