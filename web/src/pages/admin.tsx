// Administration: servers (with live health, connection test and discovery),
// queues, operators, groups, trunks, pause reasons, users, API tokens and the audit
// log. Loaded on first use. Sections the viewer may not use are not shown (the
// server refuses them anyway); every change is audited by the server.
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { gql } from '../api';
import { errorFields, errorText } from '../errors';
import { fmtDateTime, fmtNum, t } from '../i18n';
import { can, type Session } from '../session';
import { AuditPage, TokensPage, UsersPage } from './admin-users';

type Row = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type Form = Record<string, unknown>;

interface Section { path: string; label: string; perm: string; view: () => ComponentChildren }

export function Admin({ path, session }: { path: string; session: Session }) {
  const sections: Section[] = [
    { path: '/admin/servers', label: t('Servers'), perm: 'config.write', view: () => <ServersPage /> },
    { path: '/admin/queues', label: t('Queues'), perm: 'config.write', view: () => <QueuesPage /> },
    { path: '/admin/operators', label: t('Operators'), perm: 'config.write', view: () => <OperatorsPage /> },
    { path: '/admin/groups', label: t('Operator groups'), perm: 'config.write', view: () => <GroupsPage /> },
    { path: '/admin/trunks', label: t('Trunks'), perm: 'config.write', view: () => <TrunksPage /> },
    { path: '/admin/pause-reasons', label: t('Pause reasons'), perm: 'config.write', view: () => <PauseReasonsPage /> },
    { path: '/admin/users', label: t('Users'), perm: 'users.read', view: () => <UsersPage canManage={can(session, 'users.manage')} canTokens={can(session, 'tokens.manage')} /> },
    { path: '/admin/tokens', label: t('API tokens'), perm: 'tokens.manage', view: () => <TokensPage /> },
    { path: '/admin/audit', label: t('Audit log'), perm: 'audit.read', view: () => <AuditPage /> },
  ].filter((s) => can(session, s.perm));
  const cur = sections.find((s) => path === s.path || path.startsWith(s.path + '/')) ?? sections[0];
  return (
    <div class="admin">
      <nav class="tabs" aria-label={t('Administration')}>
        <ul>
          {sections.map((s) => <li><a href={s.path} aria-current={s === cur ? 'page' : undefined}>{s.label}</a></li>)}
        </ul>
      </nav>
      {cur ? <div key={cur.path}>{cur.view()}</div> : <p class="notice">{t('You do not have access to this page.')}</p>}
    </div>
  );
}

// ---- shared pieces ----

export function useLoad<T>(fn: () => Promise<T>, deps: unknown[] = []): { data: T | null; error: string; reload: () => Promise<void> } {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState('');
  const reload = async () => {
    try {
      setData(await fn());
      setError('');
    } catch (e) {
      setError(errorText(e));
    }
  };
  useEffect(() => { reload(); }, deps);
  return { data, error, reload };
}

export const edges = <T,>(c: { edges: { node: T }[] }): T[] => c.edges.map((e) => e.node);
export const splitList = (s: unknown) => String(s ?? '').split(/[,\n]/).map((x) => x.trim()).filter(Boolean);
const collator = new Intl.Collator(undefined, { numeric: true });
export const byKey = <T,>(f: (x: T) => string) => (a: T, b: T) => collator.compare(f(a), f(b));

export interface FieldDef {
  key: string; label: string;
  type: 'text' | 'number' | 'bool' | 'select' | 'multi' | 'list' | 'secret' | 'days' | 'time';
  options?: [string, string][]; createOnly?: boolean; hint?: string; required?: boolean;
}

export const weekdays = () => [t('Mon'), t('Tue'), t('Wed'), t('Thu'), t('Fri'), t('Sat'), t('Sun')];

/** One input of a form, labelled, marked invalid when the server named it. */
export function FieldInput({ f, form, set, invalid, idp }: { f: FieldDef; form: Form; set: (k: string, v: unknown) => void; invalid: boolean; idp: string }) {
  const v = form[f.key];
  const common = { id: idp + f.key, name: f.key, 'aria-invalid': invalid || undefined, 'data-field': f.key };
  switch (f.type) {
    case 'bool':
      return <label class="check"><input type="checkbox" {...common} checked={!!v} onChange={(e) => set(f.key, (e.target as HTMLInputElement).checked)} />{f.label}</label>;
    case 'select':
      return (
        <label>{f.label}
          <select {...common} value={String(v ?? '')} required={f.required} onChange={(e) => set(f.key, (e.target as HTMLSelectElement).value)}>
            {f.options!.map(([val, l]) => <option value={val}>{l}</option>)}
          </select>
        </label>
      );
    case 'multi': {
      const sel = new Set((v as string[]) ?? []);
      return (
        <fieldset class="multi" {...common}>
          <legend>{f.label}</legend>
          {!f.options!.length && <span class="muted small">{t('none yet')}</span>}
          {f.options!.map(([val, l]) => (
            <label class="check"><input type="checkbox" checked={sel.has(val)} onChange={(e) => {
              const n = new Set(sel);
              if ((e.target as HTMLInputElement).checked) n.add(val); else n.delete(val);
              set(f.key, [...n]);
            }} />{l}</label>
          ))}
        </fieldset>
      );
    }
    case 'days': {
      const sel = new Set((v as number[]) ?? []);
      return (
        <fieldset class="multi days" {...common}>
          <legend>{f.label}</legend>
          {weekdays().map((d, i) => (
            <label class="check"><input type="checkbox" checked={sel.has(i + 1)} onChange={(e) => {
              const n = new Set(sel);
              if ((e.target as HTMLInputElement).checked) n.add(i + 1); else n.delete(i + 1);
              set(f.key, [...n].sort());
            }} />{d}</label>
          ))}
        </fieldset>
      );
    }
    default:
      return (
        <label>{f.label}
          <input {...common} type={(f.type === 'number' ? 'number' : f.type === 'secret' ? 'password' : f.type === 'time' ? 'time' : 'text') as 'text'}
            autoComplete={f.type === 'secret' ? 'new-password' : 'off'} required={f.required}
            placeholder={f.hint} value={String(v ?? '')} onInput={(e) => set(f.key, (e.target as HTMLInputElement).value)} />
        </label>
      );
  }
}

export function ErrorMsg({ error, testid }: { error: string; testid?: string }) {
  return error ? <p class="error" role="alert" data-testid={testid}>{error}</p> : null;
}

interface CrudProps {
  title: string; testid: string; newLabel: string;
  load: () => Promise<Row[]>;
  columns: [string, (r: Row) => ComponentChildren][];
  fields: (editing: Row | null) => FieldDef[];
  toForm: (r: Row | null) => Form;
  create: (f: Form) => Promise<unknown>;
  update: (r: Row, f: Form) => Promise<unknown>;
  remove?: (r: Row) => Promise<unknown>;
  label: (r: Row) => string;
  /** Extra content of an open row (e.g. a connection test). */
  extra?: (r: Row | null, form: Form, reload: () => Promise<void>) => ComponentChildren;
  poll?: number;
  intro?: ComponentChildren;
}

/** A list with a form to create, edit and delete: the shape of most admin sections. */
export function CrudPage(p: CrudProps) {
  const { data, error, reload } = useLoad(p.load);
  const [editing, setEditing] = useState<Row | null | undefined>(undefined); // null: new
  const [form, setForm] = useState<Form>({});
  const [busy, setBusy] = useState(false);
  const [ferr, setFerr] = useState<{ text: string; fields: string[] }>({ text: '', fields: [] });
  const [done, setDone] = useState('');
  useEffect(() => {
    if (!p.poll) return;
    const h = setInterval(() => { if (document.visibilityState === 'visible') reload(); }, p.poll);
    return () => clearInterval(h);
  }, []);
  const open = (r: Row | null) => { setEditing(r); setForm(p.toForm(r)); setFerr({ text: '', fields: [] }); setDone(''); };
  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setFerr({ text: '', fields: [] });
    try {
      if (editing) await p.update(editing, form); else await p.create(form);
      setDone(editing ? t('Saved {name}.', { name: p.label(editing) }) : t('Created.'));
      setEditing(undefined);
      await reload();
    } catch (err) {
      setFerr({ text: errorText(err), fields: errorFields(err) });
    } finally {
      setBusy(false);
    }
  };
  const del = async (r: Row) => {
    if (!confirm(t('Delete {name}?', { name: p.label(r) }))) return;
    setDone('');
    try {
      await p.remove!(r);
      setDone(t('Deleted {name}.', { name: p.label(r) }));
      if (editing === r) setEditing(undefined);
      await reload();
    } catch (err) {
      setFerr({ text: errorText(err), fields: [] });
    }
  };
  const fields = editing === undefined ? [] : p.fields(editing).filter((f) => !(f.createOnly && editing));
  return (
    <section class="admin-section" data-testid={p.testid}>
      <div class="section-head">
        <h1>{p.title}</h1>
        <span class="spacer" />
        <button type="button" data-testid="new" onClick={() => open(null)}>{p.newLabel}</button>
      </div>
      {p.intro}
      {done && <p class="muted" role="status">{done}</p>}
      <ErrorMsg error={error} />
      {editing !== undefined && (
        <form class="filters admin-form" onSubmit={save} aria-label={editing ? t('Edit {name}', { name: p.label(editing) }) : p.newLabel} data-testid="admin-form">
          <h2>{editing ? t('Edit {name}', { name: p.label(editing) }) : p.newLabel}</h2>
          <fieldset class="period">
            <legend class="sr-only">{t('Settings')}</legend>
            {fields.map((f) => <FieldInput f={f} form={form} set={(k, v) => setForm((x) => ({ ...x, [k]: v }))} invalid={ferr.fields.includes(f.key)} idp={p.testid + '-'} />)}
          </fieldset>
          {p.extra?.(editing, form, reload)}
          <ErrorMsg error={ferr.text} testid="form-error" />
          <div class="actions">
            <button type="submit" data-testid="save" disabled={busy}>{busy ? t('Saving…') : t('Save')}</button>
            <button type="button" class="secondary" onClick={() => setEditing(undefined)}>{t('Cancel')}</button>
          </div>
        </form>
      )}
      {editing === undefined && ferr.text && <ErrorMsg error={ferr.text} />}
      {!data ? (!error && <p class="muted" aria-busy="true">{t('Loading…')}</p>) : (
        <div class="scroll">
          <table class="grid" data-testid={p.testid + '-table'}>
            <thead><tr>
              {p.columns.map(([l]) => <th scope="col">{l}</th>)}
              <th scope="col">{t('Actions')}</th>
            </tr></thead>
            <tbody>
              {data.map((r) => (
                <tr key={r.id} data-id={r.id}>
                  {p.columns.map(([, f], i) => (i === 0 ? <th scope="row">{f(r)}</th> : <td>{f(r)}</td>))}
                  <td class="actions">
                    <button type="button" class="secondary" onClick={() => open(r)} aria-label={t('Edit {name}', { name: p.label(r) })}>{t('Edit')}</button>
                    {p.remove && <button type="button" class="secondary danger" onClick={() => del(r)} aria-label={t('Delete {name}', { name: p.label(r) })}>{t('Delete')}</button>}
                  </td>
                </tr>
              ))}
              {!data.length && <tr><td colSpan={p.columns.length + 1} class="muted">{t('Nothing here yet.')}</td></tr>}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

export const yes = (b: boolean) => (b ? t('Yes') : t('No'));
const opt = (v: unknown) => (v === '' || v === undefined ? null : v);
const num = (v: unknown) => (v === '' || v === undefined || v === null ? null : Number(v));
const Discovered = ({ r }: { r: Row }) => (r.discovered ? <span class="tag" title={t('Seen on AMI, not accepted yet')}>{t('discovered')}</span> : null);

// ---- reference data ----

export interface ServerRef { id: string; name: string; timezone: string }
export async function loadServers(): Promise<ServerRef[]> {
  return edges((await gql<{ servers: { edges: { node: ServerRef }[] } }>('query S { servers(first: 100) { edges { node { id name timezone } } } }')).servers).sort(byKey((s) => s.name));
}
export function useRefs<T>(fn: () => Promise<T[]>): T[] {
  const [x, set] = useState<T[]>([]);
  useEffect(() => { fn().then(set, () => {}); }, []);
  return x;
}

// ---- servers ----

const SERVER_FIELDS = `id name amiAddress amiUsername timezone enabled recordingsLocation trunkContexts trunkPrefixes customVariables
  health { active connected since greeting lastEventAt lagSeconds lastError reconnects }`;

function serverInput(f: Form, creating: boolean): Form {
  const i: Form = {
    name: f.name, amiAddress: f.amiAddress, amiUsername: f.amiUsername, timezone: f.timezone, enabled: !!f.enabled,
    recordingsLocation: String(f.recordingsLocation ?? ''), trunkPrefixes: splitList(f.trunkPrefixes), trunkContexts: splitList(f.trunkContexts),
    customVariables: splitList(f.customVariables),
  };
  if (f.amiSecret || creating) i.amiSecret = f.amiSecret ?? '';
  return i;
}

function Health({ h }: { h: Row | null }) {
  if (!h) return <span class="muted">{t('no collector in this process')}</span>;
  if (!h.active) return <span class="muted">{t('collected by another process')}</span>;
  return (
    <span data-testid="health" data-connected={String(h.connected)}>
      <span class={h.connected ? 'status st-FREE' : 'status st-UNAVAILABLE'}>{h.connected ? t('connected') : t('disconnected')}</span>
      {h.greeting && <span class="muted small"> · {h.greeting}</span>}
      {h.lagSeconds != null && <span class="muted small"> · {t('lag {s} s', { s: fmtNum(h.lagSeconds, 1) })}</span>}
      {h.lastError && <span class="error small"> · {h.lastError}</span>}
    </span>
  );
}

function ServersPage() {
  return (
    <CrudPage
      title={t('Servers')} testid="servers" newLabel={t('Add server')} poll={5000}
      load={async () => edges((await gql<{ servers: { edges: { node: Row }[] } }>(`query Servers { servers(first: 100) { edges { node { ${SERVER_FIELDS} } } } }`)).servers).sort(byKey((s) => s.name))}
      columns={[
        [t('Name'), (r) => r.name],
        [t('AMI address'), (r) => r.amiAddress],
        [t('Manager user'), (r) => r.amiUsername],
        [t('Time zone'), (r) => r.timezone],
        [t('Enabled'), (r) => yes(r.enabled)],
        [t('Connection'), (r) => <Health h={r.health} />],
      ]}
      fields={() => [
        { key: 'name', label: t('Name'), type: 'text', required: true },
        { key: 'amiAddress', label: t('AMI address (host:port)'), type: 'text', required: true, hint: '10.0.0.5:5038' },
        { key: 'amiUsername', label: t('Manager user'), type: 'text', required: true },
        { key: 'amiSecret', label: t('Manager secret'), type: 'secret', hint: t('unchanged when empty') },
        { key: 'timezone', label: t('Time zone'), type: 'text', hint: 'Europe/Moscow', required: true },
        { key: 'enabled', label: t('Enabled'), type: 'bool' },
        { key: 'recordingsLocation', label: t('Recordings location (folder or URL)'), type: 'text' },
        { key: 'trunkPrefixes', label: t('Trunk channel prefixes (comma-separated)'), type: 'list', hint: 'PJSIP/trunk' },
        { key: 'trunkContexts', label: t('Trunk contexts (comma-separated)'), type: 'list', hint: 'from-trunk' },
        { key: 'customVariables', label: t('Custom variables (comma-separated)'), type: 'list' },
      ]}
      toForm={(r) => (r ? { ...r, amiSecret: '', trunkPrefixes: (r.trunkPrefixes ?? []).join(', '), trunkContexts: (r.trunkContexts ?? []).join(', '), customVariables: (r.customVariables ?? []).join(', ') }
        : { enabled: true, timezone: Intl.DateTimeFormat().resolvedOptions().timeZone })}
      create={(f) => gql('mutation CreateServer($i: ServerInput!) { createServer(input: $i) { id } }', { i: serverInput(f, true) })}
      update={(r, f) => gql('mutation UpdateServer($id: ID!, $i: ServerInput!) { updateServer(id: $id, input: $i) { id } }', { id: r.id, i: serverInput(f, false) })}
      remove={(r) => gql('mutation DeleteServer($id: ID!) { deleteServer(id: $id) }', { id: r.id })}
      label={(r) => r.name}
      extra={(r, f, reload) => <><ConnectionTest server={r} form={f} />{r && <Suggestions serverID={r.id} onAccepted={reload} />}</>}
    />
  );
}

function ConnectionTest({ server, form }: { server: Row | null; form: Form }) {
  const [res, setRes] = useState<{ ok: boolean; greeting: string | null; error: string | null; latencyMs: number | null } | null>(null);
  const [err, setErr] = useState('');
  const [busy, setBusy] = useState(false);
  const test = async () => {
    setBusy(true);
    setRes(null);
    setErr('');
    try {
      const d = await gql<{ testServerConnection: NonNullable<typeof res> }>(
        'query Test($id: ID, $i: ServerInput) { testServerConnection(id: $id, input: $i) { ok greeting error latencyMs } }',
        { id: server?.id ?? null, i: serverInput(form, !server) });
      setRes(d.testServerConnection);
    } catch (e) {
      setErr(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="conn-test">
      <button type="button" class="secondary" data-testid="test-connection" onClick={test} disabled={busy}>{busy ? t('Connecting…') : t('Test connection')}</button>
      {res && (res.ok
        ? <span class="status st-FREE" role="status" data-testid="test-result" data-ok="true">{t('Connected: {greeting}', { greeting: res.greeting ?? '' })}{res.latencyMs != null ? ` (${res.latencyMs} ms)` : ''}</span>
        : <span class="error" role="alert" data-testid="test-result" data-ok="false">{t('Failed: {error}', { error: res.error ?? '' })}</span>)}
      <ErrorMsg error={err} />
    </div>
  );
}

function Suggestions({ serverID, onAccepted }: { serverID: string; onAccepted: () => Promise<void> }) {
  type S = { queues: { number: string; members: number; queue: { id: string; discovered: boolean } | null }[]; operators: { interface: string; name: string | null; number: string | null; queues: string[]; operator: { id: string; discovered: boolean } | null }[] };
  const Q = 'query Sugg($id: ID!) { node(id: $id) { ... on Server { suggestions { queues { number members queue { id discovered } } operators { interface name number queues operator { id discovered } } } } } }';
  const { data, error, reload } = useLoad(async () => (await gql<{ node: { suggestions: S } | null }>(Q, { id: serverID })).node?.suggestions ?? { queues: [], operators: [] }, [serverID]);
  const [qs, setQs] = useState<Set<string>>(new Set());
  const [os, setOs] = useState<Set<string>>(new Set());
  const [err, setErr] = useState('');
  const [msg, setMsg] = useState('');
  const toggle = (s: Set<string>, set: (x: Set<string>) => void, k: string) => { const n = new Set(s); if (n.has(k)) n.delete(k); else n.add(k); set(n); };
  const accept = async () => {
    setErr('');
    try {
      await gql('mutation Accept($id: ID!, $q: [String!], $o: [String!]) { acceptDiscovered(serverID: $id, queues: $q, operators: $o) { queues { number } } }', { id: serverID, q: [...qs], o: [...os] });
      setMsg(t('Accepted {n}.', { n: qs.size + os.size }));
      setQs(new Set());
      setOs(new Set());
      await reload();
      await onAccepted();
    } catch (e) {
      setErr(errorText(e));
    }
  };
  return (
    <section class="suggestions" aria-labelledby={'sugg-' + serverID}>
      <h3 id={'sugg-' + serverID}>{t('Seen on AMI, not accepted yet')}</h3>
      <ErrorMsg error={error || err} />
      {msg && <p class="muted" role="status">{msg}</p>}
      {data && !data.queues.length && !data.operators.length && <p class="muted">{t('Nothing new.')}</p>}
      {data && (data.queues.length > 0 || data.operators.length > 0) && (
        <>
          <fieldset class="multi"><legend>{t('Queues')}</legend>
            {!data.queues.length && <span class="muted small">{t('none yet')}</span>}
            {data.queues.map((q) => <label class="check"><input type="checkbox" checked={qs.has(q.number)} onChange={() => toggle(qs, setQs, q.number)} />{q.number} <span class="muted small">({t('{n} members', { n: q.members })}{q.queue ? '' : ', ' + t('new')})</span></label>)}
          </fieldset>
          <fieldset class="multi"><legend>{t('Operators')}</legend>
            {!data.operators.length && <span class="muted small">{t('none yet')}</span>}
            {data.operators.map((o) => <label class="check" data-testid="suggested-operator" data-interface={o.interface}><input type="checkbox" checked={os.has(o.interface)} onChange={() => toggle(os, setOs, o.interface)} />{o.name || o.number || o.interface} <span class="muted small">{o.interface} · {o.queues.join(', ')}{o.operator ? '' : ' · ' + t('new')}</span></label>)}
          </fieldset>
          <button type="button" class="secondary" data-testid="accept-discovered" disabled={!qs.size && !os.size} onClick={accept}>{t('Accept selected')}</button>
        </>
      )}
    </section>
  );
}

// ---- queues ----

function QueuesPage() {
  const servers = useRefs(loadServers);
  return (
    <CrudPage
      title={t('Queues')} testid="queues-admin" newLabel={t('Add queue')}
      load={async () => edges((await gql<{ queues: { edges: { node: Row }[] } }>('query AQ { queues(first: 1000) { edges { node { id number displayName timezone slThresholdSeconds discovered workingHours { days from to } server { id name timezone } } } } }')).queues)
        .sort(byKey((q) => q.server.name + '/' + q.number))}
      columns={[
        [t('Queue'), (r) => <>{r.number} <Discovered r={r} /></>],
        [t('Display name'), (r) => r.displayName ?? ''],
        [t('Server'), (r) => r.server.name],
        [t('Time zone'), (r) => r.timezone || <span class="muted">{t('server\'s ({zone})', { zone: r.server.timezone })}</span>],
        [t('Service level threshold, s'), (r) => r.slThresholdSeconds],
        [t('Working hours'), (r) => (r.workingHours ? `${r.workingHours.from}–${r.workingHours.to}` : '')],
      ]}
      fields={(r) => [
        { key: 'serverID', label: t('Server'), type: 'select', createOnly: true, required: true, options: servers.map((s) => [s.id, s.name] as [string, string]) },
        { key: 'number', label: t('Queue name in queues.conf'), type: 'text', createOnly: true, required: true },
        { key: 'displayName', label: t('Display name'), type: 'text' },
        { key: 'timezone', label: t('Time zone'), type: 'text', hint: r ? t('empty: the server\'s') : 'Europe/Moscow' },
        { key: 'slThresholdSeconds', label: t('Service level threshold, s'), type: 'number' },
        { key: 'whDays', label: t('Working days'), type: 'days' },
        { key: 'whFrom', label: t('Working hours from'), type: 'time' },
        { key: 'whTo', label: t('Working hours to'), type: 'time' },
      ]}
      toForm={(r) => (r ? { ...r, displayName: r.displayName ?? '', timezone: r.timezone ?? '', whDays: r.workingHours?.days ?? [], whFrom: r.workingHours?.from ?? '', whTo: r.workingHours?.to ?? '', whWas: !!r.workingHours } : { serverID: servers[0]?.id ?? '', slThresholdSeconds: 20, whDays: [], whFrom: '', whTo: '' })}
      create={(f) => gql('mutation CQ($s: ID!, $n: String!, $i: QueueInput) { createQueue(serverID: $s, number: $n, input: $i) { id } }', { s: f.serverID, n: f.number, i: queueInput(f) })}
      update={(r, f) => gql('mutation UQ($id: ID!, $i: QueueInput!) { updateQueue(id: $id, input: $i) { id } }', { id: r.id, i: queueInput(f) })}
      remove={(r) => gql('mutation DQ($id: ID!) { deleteQueue(id: $id) }', { id: r.id })}
      label={(r) => r.number}
      intro={<p class="muted small">{t('Working hours are set here and used by reports; clear both times to remove them.')}</p>}
    />
  );
}

function queueInput(f: Form): Form {
  const i: Form = { displayName: String(f.displayName ?? ''), timezone: String(f.timezone ?? ''), slThresholdSeconds: num(f.slThresholdSeconds) };
  if (f.whFrom && f.whTo) i.workingHours = { days: f.whDays ?? [], from: f.whFrom, to: f.whTo };
  else if (f.whWas && !f.whFrom && !f.whTo) i.workingHours = { days: [], from: '', to: '' }; // cleared
  return i;
}

// ---- operators ----

interface UserRef { id: string; login: string; displayName: string | null }
export async function loadUsers(): Promise<UserRef[]> {
  return edges((await gql<{ users: { edges: { node: UserRef }[] } }>('query U { users(first: 1000) { edges { node { id login displayName } } } }')).users).sort(byKey((u) => u.login));
}
interface GroupRef { id: string; name: string; virtual: boolean }
export async function loadGroups(): Promise<GroupRef[]> {
  return edges((await gql<{ operatorGroups: { edges: { node: GroupRef }[] } }>('query G { operatorGroups(first: 1000) { edges { node { id name virtual } } } }')).operatorGroups).sort(byKey((g) => g.name));
}
interface OpRef { id: string; number: string; name: string | null; server: { name: string } }
export async function loadOperators(): Promise<OpRef[]> {
  return edges((await gql<{ operators: { edges: { node: OpRef }[] } }>('query O { operators(first: 2000) { edges { node { id number name server { name } } } } }')).operators)
    .sort(byKey((o) => o.server.name + '/' + o.number));
}
export const opLabel = (o: OpRef) => `${o.name ? `${o.name} (${o.number})` : o.number} · ${o.server.name}`;

function OperatorsPage() {
  const servers = useRefs(loadServers);
  const users = useRefs(loadUsers);
  const groups = useRefs(loadGroups);
  return (
    <CrudPage
      title={t('Operators')} testid="operators-admin" newLabel={t('Add operator')}
      load={async () => edges((await gql<{ operators: { edges: { node: Row }[] } }>('query AO { operators(first: 2000) { edges { node { id number interface name tracked discovered userID user { login } server { id name } groups { id name } } } } }')).operators)
        .sort(byKey((o) => o.server.name + '/' + o.number))}
      columns={[
        [t('Number'), (r) => <>{r.number} <Discovered r={r} /></>],
        [t('Name'), (r) => r.name ?? ''],
        [t('Device'), (r) => r.interface ?? ''],
        [t('Server'), (r) => r.server.name],
        [t('Tracked'), (r) => yes(r.tracked)],
        [t('User'), (r) => r.user?.login ?? ''],
        [t('Groups'), (r) => (r.groups ?? []).map((g: Row) => g.name).join(', ')],
      ]}
      fields={() => [
        { key: 'serverID', label: t('Server'), type: 'select', createOnly: true, required: true, options: servers.map((s) => [s.id, s.name] as [string, string]) },
        { key: 'number', label: t('Extension'), type: 'text', required: true },
        { key: 'interface', label: t('Device (as queues see it)'), type: 'text', hint: 'PJSIP/1001' },
        { key: 'name', label: t('Name'), type: 'text' },
        { key: 'tracked', label: t('Tracked in statistics'), type: 'bool' },
        { key: 'userID', label: t('Linked user (works as this operator)'), type: 'select', options: [['', t('— nobody —')], ...users.map((u) => [u.id, u.displayName ? `${u.displayName} (${u.login})` : u.login] as [string, string])] },
        { key: 'groupIDs', label: t('Groups'), type: 'multi', options: groups.map((g) => [g.id, g.name] as [string, string]) },
      ]}
      toForm={(r) => (r ? { ...r, interface: r.interface ?? '', name: r.name ?? '', userID: r.userID ?? '', groupIDs: (r.groups ?? []).map((g: Row) => g.id) } : { serverID: servers[0]?.id ?? '', tracked: true, userID: '', groupIDs: [] })}
      create={(f) => gql('mutation CO($s: ID!, $i: OperatorInput!) { createOperator(serverID: $s, input: $i) { id } }', { s: f.serverID, i: operatorInput(f) })}
      update={(r, f) => gql('mutation UO($id: ID!, $i: OperatorInput!) { updateOperator(id: $id, input: $i) { id } }', { id: r.id, i: operatorInput(f) })}
      remove={(r) => gql('mutation DO($id: ID!) { deleteOperator(id: $id) }', { id: r.id })}
      label={(r) => r.name || r.number}
    />
  );
}

function operatorInput(f: Form): Form {
  return {
    number: f.number, interface: String(f.interface ?? ''), name: String(f.name ?? ''), tracked: !!f.tracked,
    userID: opt(f.userID), clearUser: !f.userID, groupIDs: f.groupIDs ?? [],
  };
}

// ---- groups, trunks, pause reasons ----

function GroupsPage() {
  const ops = useRefs(loadOperators);
  return (
    <CrudPage
      title={t('Operator groups')} testid="groups-admin" newLabel={t('Add group')}
      load={async () => edges((await gql<{ operatorGroups: { edges: { node: Row }[] } }>('query AG { operatorGroups(first: 1000) { edges { node { id name virtual operators { id number name } } } } }')).operatorGroups).sort(byKey((g) => g.name))}
      columns={[
        [t('Name'), (r) => r.name],
        [t('Virtual'), (r) => yes(r.virtual)],
        [t('Operators'), (r) => <span class="small">{(r.operators ?? []).map((o: Row) => o.name || o.number).join(', ')}</span>],
      ]}
      fields={() => [
        { key: 'name', label: t('Name'), type: 'text', required: true },
        { key: 'virtual', label: t('Virtual (a view across servers and queues, not an Asterisk group)'), type: 'bool' },
        { key: 'operatorIDs', label: t('Operators'), type: 'multi', options: ops.map((o) => [o.id, opLabel(o)] as [string, string]) },
      ]}
      toForm={(r) => (r ? { name: r.name, virtual: r.virtual, operatorIDs: (r.operators ?? []).map((o: Row) => o.id) } : { name: '', virtual: false, operatorIDs: [] })}
      create={(f) => gql('mutation CG($i: OperatorGroupInput!) { createOperatorGroup(input: $i) { id } }', { i: f })}
      update={(r, f) => gql('mutation UG($id: ID!, $i: OperatorGroupInput!) { updateOperatorGroup(id: $id, input: $i) { id } }', { id: r.id, i: f })}
      remove={(r) => gql('mutation DG($id: ID!) { deleteOperatorGroup(id: $id) }', { id: r.id })}
      label={(r) => r.name}
    />
  );
}

function TrunksPage() {
  const servers = useRefs(loadServers);
  return (
    <CrudPage
      title={t('Trunks')} testid="trunks-admin" newLabel={t('Add trunk')}
      load={async () => edges((await gql<{ trunks: { edges: { node: Row }[] } }>('query AT { trunks(first: 1000) { edges { node { id number name server { id name } } } } }')).trunks).sort(byKey((x) => x.server.name + '/' + x.number))}
      columns={[[t('Number'), (r) => r.number], [t('Name'), (r) => r.name ?? ''], [t('Server'), (r) => r.server.name]]}
      fields={() => [
        { key: 'serverID', label: t('Server'), type: 'select', createOnly: true, required: true, options: servers.map((s) => [s.id, s.name] as [string, string]) },
        { key: 'number', label: t('DID or trunk number'), type: 'text', required: true },
        { key: 'name', label: t('Name'), type: 'text' },
      ]}
      toForm={(r) => (r ? { number: r.number, name: r.name ?? '' } : { serverID: servers[0]?.id ?? '', number: '', name: '' })}
      create={(f) => gql('mutation CT($s: ID!, $i: TrunkInput!) { createTrunk(serverID: $s, input: $i) { id } }', { s: f.serverID, i: { number: f.number, name: f.name } })}
      update={(r, f) => gql('mutation UT($id: ID!, $i: TrunkInput!) { updateTrunk(id: $id, input: $i) { id } }', { id: r.id, i: { number: f.number, name: f.name } })}
      remove={(r) => gql('mutation DT($id: ID!) { deleteTrunk(id: $id) }', { id: r.id })}
      label={(r) => r.name || r.number}
    />
  );
}

function PauseReasonsPage() {
  const servers = useRefs(loadServers);
  return (
    <CrudPage
      title={t('Pause reasons')} testid="reasons-admin" newLabel={t('Add pause reason')}
      load={async () => edges((await gql<{ pauseReasons: { edges: { node: Row }[] } }>('query AR { pauseReasons(first: 1000) { edges { node { id name position enabled serverID server { name } } } } }')).pauseReasons)
        .sort((a, b) => a.position - b.position || collator.compare(a.name, b.name))}
      columns={[
        [t('Name'), (r) => r.name],
        [t('Server'), (r) => r.server?.name ?? t('every server')],
        [t('Order'), (r) => r.position],
        [t('Enabled'), (r) => yes(r.enabled)],
      ]}
      fields={() => [
        { key: 'name', label: t('Name (sent to Asterisk as the pause reason)'), type: 'text', required: true },
        { key: 'serverID', label: t('Server'), type: 'select', options: [['', t('every server')], ...servers.map((s) => [s.id, s.name] as [string, string])] },
        { key: 'position', label: t('Order'), type: 'number' },
        { key: 'enabled', label: t('Enabled'), type: 'bool' },
      ]}
      toForm={(r) => (r ? { name: r.name, serverID: r.serverID ?? '', position: r.position, enabled: r.enabled } : { name: '', serverID: '', position: 0, enabled: true })}
      create={(f) => gql('mutation CR($i: PauseReasonInput!) { createPauseReason(input: $i) { id } }', { i: reasonInput(f) })}
      update={(r, f) => gql('mutation UR($id: ID!, $i: PauseReasonInput!) { updatePauseReason(id: $id, input: $i) { id } }', { id: r.id, i: reasonInput(f) })}
      remove={(r) => gql('mutation DR($id: ID!) { deletePauseReason(id: $id) }', { id: r.id })}
      label={(r) => r.name}
    />
  );
}
const reasonInput = (f: Form) => ({ name: f.name, serverID: opt(f.serverID), position: num(f.position) ?? 0, enabled: !!f.enabled });

export { fmtDateTime };
