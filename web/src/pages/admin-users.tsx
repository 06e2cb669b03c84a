// Users (roles and scope, passwords shown once, sessions), API tokens (the secret
// shown once) and the audit log.
import { useEffect, useState } from 'preact/hooks';
import { gql } from '../api';
import { errorFields, errorText } from '../errors';
import { browserZone, fmtDateTime, t, zonedMidnight, zoneLabel } from '../i18n';
import { byKey, edges, ErrorMsg, loadGroups, loadOperators, loadUsers, opLabel, useLoad, useRefs, yes } from './admin';
import { queueLabel, useQueues } from '../data';

export const ROLES = ['SUPERVISOR', 'OPERATOR', 'LISTEN_RECORDINGS', 'MONITORING', 'VIEW_STATISTICS', 'BUSINESS_PROCESSES', 'USER_MANAGEMENT', 'ADMIN'];
export const roleLabel = (r: string) => ({
  SUPERVISOR: t('Supervisor'), OPERATOR: t('Operator'), LISTEN_RECORDINGS: t('Listen to recordings'), MONITORING: t('Monitoring'),
  VIEW_STATISTICS: t('View statistics'), BUSINESS_PROCESSES: t('Business processes (queue membership)'), USER_MANAGEMENT: t('User management'), ADMIN: t('Administrator (full access)'),
} as Record<string, string>)[r] ?? r;

interface Grant {
  allQueues: boolean; listenAll: boolean; queues: { queueID: string; listen: boolean }[];
  allGroups: boolean; groupIDs: string[]; allGroupOperators: boolean; operatorIDs: string[];
}
const emptyGrant = (): Grant => ({ allQueues: false, listenAll: false, queues: [], allGroups: false, groupIDs: [], allGroupOperators: true, operatorIDs: [] });
interface UserRow { id: string; login: string; displayName: string | null; language: 'ru' | 'en'; enabled: boolean; lastLoginAt: string | null; operators: { number: string; server: { name: string } }[] | null }

export function UsersPage({ canManage, canTokens }: { canManage: boolean; canTokens: boolean }) {
  const { data, error, reload } = useLoad(async () => edges((await gql<{ users: { edges: { node: UserRow }[] } }>(
    'query Users { users(first: 1000) { edges { node { id login displayName language enabled lastLoginAt operators { number server { name } } } } } }')).users).sort(byKey((u) => u.login)));
  const [editing, setEditing] = useState<UserRow | null | undefined>(undefined);
  const [shown, setShown] = useState<{ login: string; password: string } | null>(null);
  // Everyone's roles in one request (an alias per user).
  const [roles, setRoles] = useState<Map<string, string[]>>(new Map());
  useEffect(() => {
    if (!data?.length) return;
    const q = 'query Roles { ' + data.map((u, i) => `u${i}: userAccess(userID: ${JSON.stringify(u.id)}) { roles }`).join(' ') + ' }';
    gql<Record<string, { roles: string[] }>>(q).then((d) => setRoles(new Map(data.map((u, i) => [u.id, d['u' + i]?.roles ?? []]))), () => {});
  }, [data]);
  return (
    <section class="admin-section" data-testid="users-admin">
      <div class="section-head">
        <h1>{t('Users')}</h1>
        <span class="spacer" />
        {canManage && <button type="button" data-testid="new-user" onClick={() => { setShown(null); setEditing(null); }}>{t('Add user')}</button>}
      </div>
      {shown && (
        <div class="secret-once" role="alert" data-testid="password-once">
          {t('Password of {login}, shown once — give it to them now:', { login: shown.login })} <code data-testid="generated-password">{shown.password}</code>
          <button type="button" class="link" onClick={() => setShown(null)}>{t('Done')}</button>
        </div>
      )}
      {editing !== undefined && canManage && (
        <UserForm key={editing?.id ?? 'new'} user={editing} onClose={() => setEditing(undefined)}
          onSaved={async (pw, login) => { if (pw) setShown({ login, password: pw }); setEditing(undefined); await reload(); }} />
      )}
      <ErrorMsg error={error} />
      {data && (
        <div class="scroll">
          <table class="grid" data-testid="users-table">
            <thead><tr>
              <th scope="col">{t('Login')}</th><th scope="col">{t('Name')}</th><th scope="col">{t('Roles')}</th><th scope="col">{t('Enabled')}</th><th scope="col">{t('Works as operator')}</th>
              <th scope="col">{t('Last sign-in')}</th><th scope="col">{t('Actions')}</th>
            </tr></thead>
            <tbody>
              {data.map((u) => <UserRowView key={u.id} u={u} roles={roles.get(u.id)} canManage={canManage} canTokens={canTokens} onEdit={() => { setShown(null); setEditing(u); }} onPassword={(pw) => setShown({ login: u.login, password: pw })} reload={reload} />)}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function UserRowView({ u, roles, canManage, canTokens, onEdit, onPassword, reload }: { u: UserRow; roles?: string[]; canManage: boolean; canTokens: boolean; onEdit: () => void; onPassword: (pw: string) => void; reload: () => Promise<void> }) {
  const [msg, setMsg] = useState('');
  const [err, setErr] = useState('');
  const run = async (f: () => Promise<void>) => {
    setMsg('');
    setErr('');
    try { await f(); } catch (e) { setErr(errorText(e)); }
  };
  return (
    <tr data-testid="user-row" data-login={u.login}>
      <th scope="row">{u.login}</th>
      <td>{u.displayName ?? ''}</td>
      <td class="small">{(roles ?? []).map(roleLabel).join(', ')}</td>
      <td>{yes(u.enabled)}</td>
      <td>{(u.operators ?? []).map((o) => `${o.number} · ${o.server.name}`).join(', ')}</td>
      <td>{u.lastLoginAt ? fmtDateTime(u.lastLoginAt, browserZone()) : '—'}</td>
      <td class="actions">
        {canManage && (
          <>
            <button type="button" class="secondary" onClick={onEdit} aria-label={t('Edit {name}', { name: u.login })}>{t('Edit')}</button>
            <button type="button" class="secondary" onClick={() => run(async () => {
              await gql('mutation En($id: ID!, $e: Boolean) { updateUser(id: $id, input: { enabled: $e }) { id enabled } }', { id: u.id, e: !u.enabled });
              await reload();
            })} aria-label={(u.enabled ? t('Disable {name}', { name: u.login }) : t('Enable {name}', { name: u.login }))}>{u.enabled ? t('Disable') : t('Enable')}</button>
            <button type="button" class="secondary" onClick={() => run(async () => {
              if (!confirm(t('Reset the password of {name}? Their sessions end.', { name: u.login }))) return;
              const d = await gql<{ setUserPassword: { password: string | null } }>('mutation Pw($id: ID!) { setUserPassword(id: $id) { password } }', { id: u.id });
              if (d.setUserPassword.password) onPassword(d.setUserPassword.password);
            })} aria-label={t('Reset the password of {name}', { name: u.login })}>{t('Reset password')}</button>
            <button type="button" class="secondary" onClick={() => run(async () => {
              const d = await gql<{ revokeUserSessions: number }>('mutation Rv($id: ID!) { revokeUserSessions(id: $id) }', { id: u.id });
              setMsg(t('{n} sessions ended.', { n: d.revokeUserSessions }));
            })} aria-label={t('End the sessions of {name}', { name: u.login })}>{t('End sessions')}</button>
          </>
        )}
        {canTokens && <a href={`/admin/tokens?user=${encodeURIComponent(u.id)}`} aria-label={t('API tokens of {name}', { name: u.login })}>{t('Tokens')}</a>}
        {msg && <span class="muted small" role="status">{msg}</span>}
        {err && <span class="error small" role="alert">{err}</span>}
      </td>
    </tr>
  );
}

function UserForm({ user, onClose, onSaved }: { user: UserRow | null; onClose: () => void; onSaved: (password: string | null, login: string) => Promise<void> }) {
  const [f, setF] = useState({ login: user?.login ?? '', displayName: user?.displayName ?? '', language: user?.language ?? 'ru', password: '' });
  const [roles, setRoles] = useState<string[]>([]);
  const [grant, setGrant] = useState<Grant>(emptyGrant());
  const [err, setErr] = useState<{ text: string; fields: string[] }>({ text: '', fields: [] });
  const [busy, setBusy] = useState(false);
  const queues = useQueues();
  const groups = useRefs(loadGroups);
  const ops = useRefs(loadOperators);
  useEffect(() => {
    if (!user) return;
    gql<{ userAccess: { roles: string[]; grant: Grant & { queues: { queueID: string; listen: boolean }[] } } }>(
      'query Access($id: ID!) { userAccess(userID: $id) { roles grant { allQueues listenAll queues { queueID listen } allGroups groupIDs allGroupOperators operatorIDs } } }', { id: user.id })
      .then((d) => { setRoles(d.userAccess.roles); setGrant(d.userAccess.grant); }, (e) => setErr({ text: errorText(e), fields: [] }));
  }, [user?.id]);
  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErr({ text: '', fields: [] });
    try {
      if (!user) {
        const d = await gql<{ createUser: { password: string | null; user: { login: string } } }>(
          'mutation CU($i: CreateUserInput!) { createUser(input: $i) { password user { id login } } }',
          { i: { login: f.login, displayName: f.displayName || null, language: f.language, password: f.password || null, roles, grant } });
        await onSaved(d.createUser.password, d.createUser.user.login);
      } else {
        await gql('mutation UU($id: ID!, $i: UpdateUserInput!) { updateUser(id: $id, input: $i) { id } }', { id: user.id, i: { displayName: f.displayName, language: f.language } });
        await gql('mutation SR($id: ID!, $r: [Role!]!) { setUserRoles(id: $id, roles: $r) { roles } }', { id: user.id, r: roles });
        await gql('mutation SG($id: ID!, $g: GrantInput!) { setUserGrant(id: $id, grant: $g) { roles } }', { id: user.id, g: grant });
        await onSaved(null, user.login);
      }
    } catch (e2) {
      setErr({ text: errorText(e2), fields: errorFields(e2) });
    } finally {
      setBusy(false);
    }
  };
  const inv = (k: string) => err.fields.includes(k) || undefined;
  const qGrant = new Map(grant.queues.map((q) => [q.queueID, q]));
  const setQ = (id: string, on: boolean, listen: boolean) => {
    const rest = grant.queues.filter((q) => q.queueID !== id);
    setGrant({ ...grant, queues: on ? [...rest, { queueID: id, listen }] : rest });
  };
  const toggleIn = (list: string[], id: string, on: boolean) => (on ? [...new Set([...list, id])] : list.filter((x) => x !== id));
  const title = user ? t('Edit {name}', { name: user.login }) : t('Add user');
  return (
    <form class="filters admin-form" onSubmit={save} aria-label={title} data-testid="user-form">
      <h2>{title}</h2>
      <fieldset class="period">
        <legend class="sr-only">{t('Account')}</legend>
        {!user && <label>{t('Login')}<input name="login" data-field="login" required aria-invalid={inv('login')} value={f.login} onInput={(e) => setF({ ...f, login: (e.target as HTMLInputElement).value })} autoComplete="off" /></label>}
        <label>{t('Name')}<input name="displayName" aria-invalid={inv('displayName')} value={f.displayName} onInput={(e) => setF({ ...f, displayName: (e.target as HTMLInputElement).value })} /></label>
        <label>{t('Language')}<select name="language" value={f.language} onChange={(e) => setF({ ...f, language: (e.target as HTMLSelectElement).value as 'ru' | 'en' })}><option value="ru">Русский</option><option value="en">English</option></select></label>
        {!user && <label>{t('Password (empty: generate one)')}<input name="password" type="password" autoComplete="new-password" aria-invalid={inv('password')} value={f.password} onInput={(e) => setF({ ...f, password: (e.target as HTMLInputElement).value })} /></label>}
      </fieldset>
      <fieldset class="multi" data-testid="roles" aria-invalid={inv('roles')}>
        <legend>{t('Roles')}</legend>
        {ROLES.map((r) => <label class="check"><input type="checkbox" name={'role-' + r} checked={roles.includes(r)} onChange={(e) => setRoles(toggleIn(roles, r, (e.target as HTMLInputElement).checked))} />{roleLabel(r)}</label>)}
      </fieldset>
      <fieldset class="multi grant" data-testid="grant-queues" aria-invalid={inv('grant')}>
        <legend>{t('Queues they may see')}</legend>
        <label class="check"><input type="checkbox" checked={grant.allQueues} onChange={(e) => setGrant({ ...grant, allQueues: (e.target as HTMLInputElement).checked })} />{t('All queues')}</label>
        <label class="check"><input type="checkbox" checked={grant.listenAll} onChange={(e) => setGrant({ ...grant, listenAll: (e.target as HTMLInputElement).checked })} />{t('May listen to the recordings of every allowed queue')}</label>
        {!grant.allQueues && (
          <table class="grid compact">
            <thead><tr><th scope="col">{t('Queue')}</th><th scope="col">{t('Allowed')}</th><th scope="col">{t('Listen to recordings')}</th></tr></thead>
            <tbody>
              {queues.map((q) => {
                const g = qGrant.get(q.id);
                return (
                  <tr data-testid="grant-queue" data-queue={q.number} data-server={q.server?.name ?? ''}>
                    <th scope="row">{queueLabel(q)}</th>
                    <td><input type="checkbox" aria-label={t('Allow queue {q}', { q: queueLabel(q) })} checked={!!g} onChange={(e) => setQ(q.id, (e.target as HTMLInputElement).checked, g?.listen ?? false)} /></td>
                    <td><input type="checkbox" aria-label={t('Listen to recordings of {q}', { q: queueLabel(q) })} checked={!!g?.listen} disabled={!g} onChange={(e) => setQ(q.id, true, (e.target as HTMLInputElement).checked)} /></td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </fieldset>
      <fieldset class="multi grant">
        <legend>{t('Operator groups they may see')}</legend>
        <label class="check"><input type="checkbox" checked={grant.allGroups} onChange={(e) => setGrant({ ...grant, allGroups: (e.target as HTMLInputElement).checked })} />{t('All groups')}</label>
        <label class="check"><input type="checkbox" checked={grant.allGroupOperators} onChange={(e) => setGrant({ ...grant, allGroupOperators: (e.target as HTMLInputElement).checked })} />{t('Every operator of the allowed groups')}</label>
        {!grant.allGroups && groups.map((g) => <label class="check"><input type="checkbox" checked={grant.groupIDs.includes(g.id)} onChange={(e) => setGrant({ ...grant, groupIDs: toggleIn(grant.groupIDs, g.id, (e.target as HTMLInputElement).checked) })} />{g.name}{g.virtual ? ` (${t('virtual')})` : ''}</label>)}
      </fieldset>
      <details class="multi grant">
        <summary>{t('Extra operators outside the groups ({n})', { n: grant.operatorIDs.length })}</summary>
        {ops.map((o) => <label class="check"><input type="checkbox" checked={grant.operatorIDs.includes(o.id)} onChange={(e) => setGrant({ ...grant, operatorIDs: toggleIn(grant.operatorIDs, o.id, (e.target as HTMLInputElement).checked) })} />{opLabel(o)}</label>)}
      </details>
      <ErrorMsg error={err.text} testid="form-error" />
      <div class="actions">
        <button type="submit" data-testid="save-user" disabled={busy}>{busy ? t('Saving…') : t('Save')}</button>
        <button type="button" class="secondary" onClick={onClose}>{t('Cancel')}</button>
      </div>
    </form>
  );
}

// ---- API tokens ----

interface Token { id: string; name: string; prefix: string; scope: string; createdAt: string; lastUsedAt: string | null; expiresAt: string | null; revokedAt: string | null; user: { id: string; login: string } }

export function TokensPage() {
  const userFilter = new URLSearchParams(location.search).get('user') || '';
  const users = useRefs(loadUsers);
  const { data, error, reload } = useLoad(async () => (await gql<{ apiTokens: Token[] }>(
    'query Tokens($u: ID) { apiTokens(userID: $u) { id name prefix scope createdAt lastUsedAt expiresAt revokedAt user { id login } } }', { u: userFilter || null })).apiTokens
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt)));
  const [f, setF] = useState({ userID: userFilter, name: '', scope: 'read', expires: '' });
  const [secret, setSecret] = useState('');
  const [err, setErr] = useState('');
  const [busy, setBusy] = useState(false);
  const zone = browserZone();
  const create = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErr('');
    setSecret('');
    try {
      const d = await gql<{ createAPIToken: { secret: string } }>('mutation CT($u: ID!, $n: String!, $s: APITokenScope!, $x: Time) { createAPIToken(userID: $u, name: $n, scope: $s, expiresAt: $x) { secret token { id } } }',
        { u: f.userID || users[0]?.id, n: f.name, s: f.scope, x: f.expires ? zonedMidnight(f.expires, zone) : null });
      setSecret(d.createAPIToken.secret);
      setF({ ...f, name: '' });
      await reload();
    } catch (e2) {
      setErr(errorText(e2));
    } finally {
      setBusy(false);
    }
  };
  const revoke = async (tk: Token) => {
    if (!confirm(t('Revoke the token {name}? Programs using it stop working.', { name: tk.name }))) return;
    setErr('');
    try {
      await gql('mutation RT($id: ID!) { revokeAPIToken(id: $id) { id revokedAt } }', { id: tk.id });
      await reload();
    } catch (e2) {
      setErr(errorText(e2));
    }
  };
  return (
    <section class="admin-section" data-testid="tokens-admin">
      <h1>{t('API tokens')}</h1>
      <form class="filters" onSubmit={create} aria-label={t('New API token')}>
        <fieldset class="period">
          <legend class="sr-only">{t('New API token')}</legend>
          <label>{t('User')}<select value={f.userID || users[0]?.id} onChange={(e) => setF({ ...f, userID: (e.target as HTMLSelectElement).value })}>{users.map((u) => <option value={u.id}>{u.login}</option>)}</select></label>
          <label>{t('Name')}<input required value={f.name} onInput={(e) => setF({ ...f, name: (e.target as HTMLInputElement).value })} placeholder={t('e.g. CRM')} /></label>
          <label>{t('Scope')}<select value={f.scope} onChange={(e) => setF({ ...f, scope: (e.target as HTMLSelectElement).value })}>
            <option value="read">{t('read')}</option><option value="write">{t('write')}</option><option value="admin">{t('admin')}</option>
          </select></label>
          <label>{t('Expires (optional)')}<input type="date" value={f.expires} onInput={(e) => setF({ ...f, expires: (e.target as HTMLInputElement).value })} /></label>
          <button type="submit" disabled={busy} data-testid="create-token">{t('Create token')}</button>
        </fieldset>
      </form>
      {secret && (
        <div class="secret-once" role="alert" data-testid="token-once">
          {t('The token, shown once — copy it now (send it as Authorization: Bearer …):')} <code data-testid="token-secret">{secret}</code>
          <button type="button" class="link" onClick={() => setSecret('')}>{t('Done')}</button>
        </div>
      )}
      <ErrorMsg error={error || err} />
      {data && (
        <div class="scroll">
          <table class="grid" data-testid="tokens-table">
            <thead><tr><th scope="col">{t('Name')}</th><th scope="col">{t('User')}</th><th scope="col">{t('Starts with')}</th><th scope="col">{t('Scope')}</th>
              <th scope="col">{t('Created')}</th><th scope="col">{t('Last used')}</th><th scope="col">{t('Expires')}</th><th scope="col">{t('State')}</th><th scope="col">{t('Actions')}</th></tr></thead>
            <tbody>
              {data.map((tk) => (
                <tr key={tk.id}>
                  <th scope="row">{tk.name}</th><td>{tk.user.login}</td><td><code>{tk.prefix}…</code></td><td>{tk.scope}</td>
                  <td>{fmtDateTime(tk.createdAt, zone)}</td><td>{tk.lastUsedAt ? fmtDateTime(tk.lastUsedAt, zone) : '—'}</td><td>{tk.expiresAt ? fmtDateTime(tk.expiresAt, zone) : '—'}</td>
                  <td>{tk.revokedAt ? t('revoked {at}', { at: fmtDateTime(tk.revokedAt, zone) }) : t('active')}</td>
                  <td>{!tk.revokedAt && <button type="button" class="secondary danger" onClick={() => revoke(tk)} aria-label={t('Revoke {name}', { name: tk.name })}>{t('Revoke')}</button>}</td>
                </tr>
              ))}
              {!data.length && <tr><td colSpan={9} class="muted">{t('No tokens.')}</td></tr>}
            </tbody>
          </table>
          <p class="muted small">{t('Times in {zone}', { zone: zoneLabel(zone) })}</p>
        </div>
      )}
    </section>
  );
}

// ---- audit log ----

interface Audit { id: string; at: string; actor: string | null; action: string; target: string | null; success: boolean; address: string | null; details: string | null }
const PAGE = 50;

export function AuditPage() {
  const zone = browserZone();
  const [f, setF] = useState({ actor: '', action: '', from: '', to: '', success: '' });
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [data, setData] = useState<{ rows: Audit[]; total: number; next: string | null } | null>(null);
  const [err, setErr] = useState('');
  const [busy, setBusy] = useState(false);
  const [loads, setLoads] = useState(0);
  const where = () => {
    const w: Record<string, unknown> = {};
    if (f.actor) w.actorContainsFold = f.actor;
    if (f.action) w.actionContainsFold = f.action;
    if (f.from) w.atGTE = zonedMidnight(f.from, zone);
    if (f.to) { const d = new Date(f.to + 'T00:00:00Z'); d.setUTCDate(d.getUTCDate() + 1); w.atLT = zonedMidnight(d.toISOString().slice(0, 10), zone); }
    if (f.success) w.success = f.success === 'true';
    return w;
  };
  const load = async (after: string | null, stack: (string | null)[]) => {
    setBusy(true);
    setErr('');
    try {
      const d = await gql<{ auditLog: { totalCount: number; edges: { node: Audit }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } }>(
        'query Audit($w: AuditLogWhereInput, $first: Int, $after: Cursor) { auditLog(where: $w, first: $first, after: $after, orderBy: { field: AT, direction: DESC }) { totalCount edges { node { id at actor action target success address details } } pageInfo { hasNextPage endCursor } } }',
        { w: where(), first: PAGE, after });
      setData({ rows: d.auditLog.edges.map((e) => e.node), total: d.auditLog.totalCount, next: d.auditLog.pageInfo.hasNextPage ? d.auditLog.pageInfo.endCursor : null });
      setCursors(stack);
    } catch (e) {
      setErr(errorText(e));
    } finally {
      setBusy(false);
      setLoads((n) => n + 1);
    }
  };
  useEffect(() => { load(null, [null]); }, []);
  const inp = (k: keyof typeof f, label: string, type: 'search' | 'date' = 'search') => (
    <label>{label}<input type={type as 'search'} name={k} value={f[k]} onInput={(e) => setF({ ...f, [k]: (e.target as HTMLInputElement).value })} /></label>
  );
  return (
    <section class="admin-section" data-testid="audit-admin" aria-busy={busy} data-loads={loads}>
      <h1>{t('Audit log')}</h1>
      <form class="filters" onSubmit={(e) => { e.preventDefault(); load(null, [null]); }} aria-label={t('Filters')}>
        <fieldset class="period">
          <legend class="sr-only">{t('Filters')}</legend>
          {inp('actor', t('Who'))}
          {inp('action', t('Action'))}
          {inp('from', t('From'), 'date')}
          {inp('to', t('To'), 'date')}
          <label>{t('Result')}<select name="success" value={f.success} onChange={(e) => setF({ ...f, success: (e.target as HTMLSelectElement).value })}>
            <option value="">{t('Any')}</option><option value="true">{t('Succeeded')}</option><option value="false">{t('Failed')}</option>
          </select></label>
          <button type="submit" disabled={busy} data-testid="audit-show">{busy ? t('Loading…') : t('Show')}</button>
        </fieldset>
      </form>
      <ErrorMsg error={err} />
      {data && (
        <>
          <p class="period-title"><span data-testid="audit-total">{t('{n} events', { n: data.total })}</span> <span class="muted">· {t('Times in {zone}', { zone: zoneLabel(zone) })}</span></p>
          <div class="scroll">
            <table class="grid" data-testid="audit-table">
              <thead><tr><th scope="col">{t('Time')}</th><th scope="col">{t('Who')}</th><th scope="col">{t('Action')}</th><th scope="col">{t('Target')}</th><th scope="col">{t('Result')}</th><th scope="col">{t('Address')}</th><th scope="col">{t('Details')}</th></tr></thead>
              <tbody>
                {data.rows.map((a) => (
                  <tr key={a.id} data-action={a.action} class={a.success ? '' : 'failed'}>
                    <td class="num">{fmtDateTime(a.at, zone)}</td><th scope="row">{a.actor ?? '—'}</th><td><code>{a.action}</code></td><td>{a.target ?? ''}</td>
                    <td>{a.success ? t('Succeeded') : <span class="error">{t('Failed')}</span>}</td><td>{a.address ?? ''}</td><td class="small details">{a.details ?? ''}</td>
                  </tr>
                ))}
                {!data.rows.length && <tr><td colSpan={7} class="muted">{t('No events match.')}</td></tr>}
              </tbody>
            </table>
          </div>
          <nav class="pager" aria-label={t('Pages')}>
            <button type="button" disabled={busy || cursors.length <= 1} onClick={() => { const s = cursors.slice(0, -1); load(s[s.length - 1], s); }}>{t('← Previous')}</button>
            <span>{t('Page {n}', { n: cursors.length })}</span>
            <button type="button" disabled={busy || !data.next} onClick={() => load(data.next, [...cursors, data.next])}>{t('Next →')}</button>
          </nav>
        </>
      )}
    </section>
  );
}
