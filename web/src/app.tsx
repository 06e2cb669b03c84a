import { useEffect, useState } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import { handleUnauthenticated, onWSState, type WSState } from './api';
import { currentLang, fmtNum, initialLang, setLang, t, type Lang } from './i18n';
import { navigate, useLocation } from './router';
import { can, canAdmin, canCalls, canLive, canReports, canWorkplace, loadSession, logout, rememberLanguage, viewerLang, type Session } from './session';
import { Login } from './pages/login';
import { LiveBoard } from './pages/live';
import { SummaryReport } from './pages/summary';
import { OperatorReport } from './pages/operators';
import { QueueReport } from './pages/queues';
import { CallList } from './pages/calls';
import { CallJourney } from './pages/journey';
import { WorkplacePage } from './pages/workplace';
import { MissedCallsPage } from './pages/missed';
import { useMissedCounts } from './missedcount';
import { lazy, Suspense } from 'preact/compat';

// Administration is for few users: its code loads when first opened.
const Admin = lazy(() => import('./pages/admin').then((m) => ({ default: m.Admin })));

export function App() {
  const [session, setSession] = useState<Session | undefined>(undefined);
  const [lang, setLangState] = useState<Lang | null>(null);
  const [bootError, setBootError] = useState('');
  const { path } = useLocation();

  const applyLang = async (l: Lang) => {
    await setLang(l);
    setLangState(l);
  };

  useEffect(() => {
    handleUnauthenticated(() => setSession((s) => (s === 'open' ? s : null)));
    (async () => {
      await applyLang(initialLang());
      try {
        const s = await loadSession();
        if (s && s !== 'open' && viewerLang(s) !== currentLang()) await applyLang(viewerLang(s));
        setSession(s);
      } catch (e) {
        setBootError(String((e as Error).message ?? e));
        setSession(null);
      }
    })();
  }, []);

  // "/" (and "/login" once signed in) go to the first screen the viewer may use.
  useEffect(() => {
    if (!session || (path !== '/' && path !== '/login')) return;
    navigate(canWorkplace(session) ? '/workplace' : canLive(session) ? '/live' : canCalls(session) ? '/calls' : canReports(session) ? '/reports/summary' : '/home', true);
  }, [session, path]);

  if (session === undefined || !lang) return <div class="boot" aria-busy="true" />;

  const switchLang = async (l: Lang) => {
    await applyLang(l);
    if (session && session !== 'open') await rememberLanguage(session, l);
  };

  if (!session) {
    return (
      <Login
        lang={lang}
        onLang={switchLang}
        error={bootError}
        onLogin={async (v) => {
          if (viewerLang(v) !== currentLang()) await applyLang(viewerLang(v));
          setSession(v);
        }}
      />
    );
  }

  if (path === '/live/wall') {
    return <div key={lang} class="wall-root"><LiveBoard wall /></div>;
  }

  return (
    <Shell session={session} lang={lang} onLang={switchLang} onLogout={async () => {
      await logout().catch(() => {});
      setSession(null);
      navigate('/login');
    }}>
      <div key={lang}>{page(path, session)}</div>
    </Shell>
  );
}

function page(path: string, s: Session) {
  const denied = <Notice>{t('You do not have access to this page.')}</Notice>;
  if (path === '/live') return canLive(s) ? <LiveBoard manage={can(s, 'queues.membership')} /> : denied;
  if (path === '/reports/summary') return canReports(s) ? <SummaryReport /> : denied;
  if (path === '/reports/operators') return canReports(s) ? <OperatorReport /> : denied;
  if (path === '/reports/queues') return canReports(s) ? <QueueReport /> : denied;
  if (path === '/calls') return canCalls(s) ? <CallList /> : denied;
  const m = path.match(/^\/calls\/([^/]+)$/);
  if (m) return canCalls(s) ? <CallJourney id={decodeURIComponent(m[1])} listen={can(s, 'recordings.listen')} /> : denied;
  if (path === '/workplace') return canWorkplace(s) ? <WorkplacePage /> : denied;
  if (path === '/missed') return canWorkplace(s) ? <MissedCallsPage /> : denied;
  if (path === '/admin' || path.startsWith('/admin/')) {
    return canAdmin(s) ? <Suspense fallback={<p class="muted" aria-busy="true">{t('Loading…')}</p>}><Admin path={path} session={s} /></Suspense> : denied;
  }
  if (path === '/home') return <Home session={s} />;
  if (path === '/' || path === '/login') return null;
  return <Notice>{t('Page not found.')}</Notice>;
}

/** The landing page of a viewer whose roles give no screen here. */
function Home({ session }: { session: Session }) {
  const name = session && session !== 'open' ? session.user.displayName || session.user.login : '';
  return (
    <div class="report">
      <h1>{t('Hello, {name}', { name })}</h1>
      <p>{t('Your role has no screens in the web app yet.')}</p>
    </div>
  );
}

export function Notice({ children }: { children: ComponentChildren }) {
  return <p class="notice" role="status">{children}</p>;
}

function Shell(props: { session: Session; lang: Lang; onLang: (l: Lang) => void; onLogout: () => void; children: ComponentChildren }) {
  const { path } = useLocation();
  const [ws, setWS] = useState<WSState>('closed');
  useEffect(() => onWSState(setWS), []);
  const s = props.session;
  const missed = useMissedCounts(canWorkplace(s));
  const link = (href: string, label: string, match = href, badge?: ComponentChildren) => (
    <li><a href={href} aria-current={path.startsWith(match) ? 'page' : undefined}>{label}{badge}</a></li>
  );
  return (
    <>
      <a class="skip" href="#main">{t('Skip to content')}</a>
      <header class="top">
        <span class="brand">Linkage</span>
        <nav aria-label={t('Main menu')}>
          <ul>
            {canWorkplace(s) && link('/workplace', t('Workplace'))}
            {canWorkplace(s) && link('/missed', t('Missed calls'), '/missed', missed && missed.total > 0
              ? <span class="badge" data-testid="missed-badge" data-count={missed.total}><span class="sr-only">{t(', unhandled:')} </span>{fmtNum(missed.total)}</span> : null)}
            {canLive(s) && link('/live', t('Live board'))}
            {canReports(s) && link('/reports/summary', t('Summary'))}
            {canReports(s) && link('/reports/operators', t('Operators'))}
            {canReports(s) && link('/reports/queues', t('Queues'))}
            {canCalls(s) && link('/calls', t('Calls'))}
            {canAdmin(s) && link('/admin', t('Administration'))}
          </ul>
        </nav>
        <span class="spacer" />
        {path === '/live' && <span class={'ws ws-' + ws} title={t('Live connection')}>{ws === 'connected' ? t('live') : ws === 'connecting' ? t('connecting…') : t('offline')}</span>}
        <LangSwitch lang={props.lang} onLang={props.onLang} />
        {s && s !== 'open' && (
          <span class="who">
            <span>{s.user.displayName || s.user.login}</span>
            <button type="button" class="link" onClick={props.onLogout}>{t('Sign out')}</button>
          </span>
        )}
      </header>
      <main id="main" tabIndex={-1}>{props.children}</main>
    </>
  );
}

export function LangSwitch({ lang, onLang }: { lang: Lang; onLang: (l: Lang) => void }) {
  return (
    <label class="lang">
      <span class="sr-only">{t('Language')}</span>
      <select value={lang} onChange={(e) => onLang((e.target as HTMLSelectElement).value as Lang)} data-testid="lang">
        <option value="ru">Русский</option>
        <option value="en">English</option>
      </select>
    </label>
  );
}
