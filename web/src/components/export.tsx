// Export buttons: the download streams through fetch so a long export shows its
// progress (bytes so far), then is saved under the server's file name.
import { useState } from 'preact/hooks';
import { currentLang, fmtNum, t } from '../i18n';

export function ExportButtons({ report, params }: { report: string; params: URLSearchParams }) {
  const [progress, setProgress] = useState<string>('');
  const [error, setError] = useState('');
  const run = async (format: 'csv' | 'xlsx') => {
    const q = new URLSearchParams(params);
    q.set('lang', currentLang());
    const url = `/export/${report}.${format}?${q}`;
    setError('');
    setProgress(t('Preparing…'));
    try {
      const res = await fetch(url, { credentials: 'same-origin' });
      if (!res.ok) throw new Error((await res.text()) || `HTTP ${res.status}`);
      const chunks: Uint8Array[] = [];
      let got = 0;
      const reader = res.body!.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
        got += value.length;
        setProgress(t('Downloading… {kb} KB', { kb: fmtNum(got / 1024, 1) }));
      }
      const cd = res.headers.get('Content-Disposition') ?? '';
      const name = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(cd)?.[1] ?? `${report}.${format}`;
      const blob = new Blob(chunks as BlobPart[], { type: res.headers.get('Content-Type') ?? 'application/octet-stream' });
      const a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = decodeURIComponent(name);
      document.body.appendChild(a);
      a.click();
      setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 60_000);
      setProgress('');
    } catch (e) {
      setProgress('');
      setError(t('Export failed: {error}', { error: (e as Error).message }));
    }
  };
  return (
    <div class="export" role="group" aria-label={t('Export')}>
      <button type="button" onClick={() => run('csv')} disabled={!!progress} data-testid="export-csv">{t('Export CSV')}</button>
      <button type="button" onClick={() => run('xlsx')} disabled={!!progress} data-testid="export-xlsx">{t('Export XLSX')}</button>
      {progress && <span class="muted" role="status">{progress}</span>}
      {error && <span class="error" role="alert">{error}</span>}
    </div>
  );
}
