// The signed-in viewer and what their roles allow.
import { gql, isMissingField, resetSubscriptions, setCSRF } from './api';

export interface Viewer {
  user: { id: string; login: string; displayName?: string | null; language: 'ru' | 'en' };
  roles: string[];
  permissions: string[];
}

const VIEWER_FIELDS = 'user { id login displayName language } roles permissions';

/** null: nobody signed in; 'open': the server has no access control (older build). */
export type Session = Viewer | null | 'open';

export async function loadSession(): Promise<Session> {
  try {
    const d = await gql<{ viewer: Viewer | null }>(`query Viewer { viewer { ${VIEWER_FIELDS} } }`);
    return d.viewer;
  } catch (e) {
    if (isMissingField(e)) return 'open';
    throw e;
  }
}

export async function login(loginName: string, password: string): Promise<Viewer> {
  const d = await gql<{ login: { csrfToken: string; viewer: Viewer } }>(
    `mutation Login($login: String!, $password: String!) { login(login: $login, password: $password) { csrfToken viewer { ${VIEWER_FIELDS} } } }`,
    { login: loginName, password },
  );
  setCSRF(d.login.csrfToken);
  resetSubscriptions();
  return d.login.viewer;
}

export async function logout() {
  try {
    await gql<{ logout: boolean }>('mutation Logout { logout }');
  } finally {
    setCSRF('');
    resetSubscriptions();
  }
}

/**
 * The viewer's language: their choice on this browser when they could not save it
 * to their profile (only user managers may edit users), else their profile's setting.
 */
export function viewerLang(v: Viewer): 'ru' | 'en' {
  const local = localStorage.getItem('linkage.lang.user.' + v.user.id);
  return local === 'ru' || local === 'en' ? local : v.user.language;
}

/** Keeps the viewer's language: in their profile when they may edit users, else on this browser. */
export async function rememberLanguage(v: Viewer, lang: 'ru' | 'en') {
  const key = 'linkage.lang.user.' + v.user.id;
  if (can(v, 'users.manage')) {
    try {
      await saveLanguage(v, lang);
      v.user.language = lang;
      localStorage.removeItem(key);
      return;
    } catch {
      /* fall back to this browser */
    }
  }
  localStorage.setItem(key, lang);
}

export async function saveLanguage(v: Viewer, lang: 'ru' | 'en') {
  await gql('mutation SetLanguage($id: ID!, $lang: UserLanguage!) { updateUser(id: $id, input: { language: $lang }) { id language } }', {
    id: v.user.id,
    lang,
  });
}

/** What the session may do; an open server (no access control) allows everything. */
export function can(s: Session, perm: string): boolean {
  if (s === 'open') return true;
  if (!s) return false;
  if (s.roles.includes('ADMIN') || s.permissions.includes('*')) return true;
  return s.permissions.includes(perm);
}

export const canLive = (s: Session) => can(s, 'monitor.read');
export const canReports = (s: Session) => can(s, 'reports.read');
export const canCalls = (s: Session) => can(s, 'calls.read');

/** The operator's workplace: users who work as an operator (the OPERATOR role). */
export const canWorkplace = (s: Session) => !!s && s !== 'open' && s.roles.includes('OPERATOR');
/** Administration: any of configuration, users, tokens or the audit log. */
export const canAdmin = (s: Session) => !!s && s !== 'open' && ['config.write', 'users.read', 'users.manage', 'tokens.manage', 'audit.read'].some((p) => can(s, p));
