import { useState } from 'preact/hooks';
import { t, type Lang } from '../i18n';
import { login, type Viewer } from '../session';
import { LangSwitch } from '../app';

export function Login(props: { lang: Lang; onLang: (l: Lang) => void; onLogin: (v: Viewer) => void; error?: string }) {
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState(props.error ?? '');
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      props.onLogin(await login(name, password));
    } catch (err) {
      const m = (err as Error).message;
      setError(/rate|too many/i.test(m) ? t('Too many attempts. Try again later.') : t('Wrong login or password.'));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main id="main" class="login">
      <form onSubmit={submit} aria-labelledby="login-title">
        <div class="login-head">
          <h1 id="login-title">Linkage</h1>
          <LangSwitch lang={props.lang} onLang={props.onLang} />
        </div>
        <p class="muted">{t('Call-center statistics and live monitoring')}</p>
        <label>
          {t('Login')}
          <input name="login" autoComplete="username" required value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} autoFocus />
        </label>
        <label>
          {t('Password')}
          <input name="password" type="password" autoComplete="current-password" required value={password} onInput={(e) => setPassword((e.target as HTMLInputElement).value)} />
        </label>
        {error && <p class="error" role="alert">{error}</p>}
        <button type="submit" disabled={busy}>{busy ? t('Signing in…') : t('Sign in')}</button>
      </form>
    </main>
  );
}
