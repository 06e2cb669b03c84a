// Reference lists the report forms offer (queues, operators), loaded once per page.
import { useEffect, useState } from 'preact/hooks';
import { gql } from './api';

export interface QueueRef { id: string; number: string; displayName: string | null; timezone: string | null; slThresholdSeconds: number; server: { name: string; timezone: string } | null }
export interface OperatorRef { id: string; number: string; name: string | null; server: { name: string } | null }

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

let operatorsP: Promise<OperatorRef[]> | null = null;
export function useOperators(): OperatorRef[] {
  const [os, set] = useState<OperatorRef[]>([]);
  useEffect(() => {
    operatorsP ??= gql<{ operators: { edges: { node: OperatorRef }[] } }>(
      'query Operators { operators(first: 1000) { edges { node { id number name server { name } } } } }',
    ).then((d) => d.operators.edges.map((e) => e.node).sort((a, b) => (a.name || a.number).localeCompare(b.name || b.number)))
      .catch(() => { operatorsP = null; return []; });
    operatorsP.then(set);
  }, []);
  return os;
}
export const operatorLabel = (o: OperatorRef) => `${o.name ? `${o.name} (${o.number})` : o.number}${o.server ? ' · ' + o.server.name : ''}`;

export const queueLabel = (q: QueueRef) => `${q.displayName && q.displayName !== q.number ? `${q.displayName} (${q.number})` : q.number}${q.server ? ' · ' + q.server.name : ''}`;
