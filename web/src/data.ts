// Reference lists the report forms offer (queues, operators), loaded once per page.
import { useEffect, useState } from 'preact/hooks';
import { gql } from './api';

export interface QueueRef { id: string; number: string; displayName: string | null; timezone: string | null; slThresholdSeconds: number; server: { name: string; timezone: string } | null }
export interface OperatorRef { id: string; number: string; name: string | null }

let queuesP: Promise<QueueRef[]> | null = null;
export function loadQueues(): Promise<QueueRef[]> {
  queuesP ??= gql<{ queues: { edges: { node: QueueRef }[] } }>(
    'query Queues { queues(first: 1000) { edges { node { id number displayName timezone slThresholdSeconds server { name timezone } } } } }',
  ).then((d) => d.queues.edges.map((e) => e.node).sort((a, b) => a.number.localeCompare(b.number)))
    .catch(() => { queuesP = null; return []; });
  return queuesP;
}

export function useQueues(): QueueRef[] {
  const [qs, set] = useState<QueueRef[]>([]);
  useEffect(() => { loadQueues().then(set); }, []);
  return qs;
}

export const queueLabel = (q: QueueRef) => `${q.displayName && q.displayName !== q.number ? `${q.displayName} (${q.number})` : q.number}${q.server ? ' · ' + q.server.name : ''}`;
