// xgettext for the app: collects the msgids used in src/ (t('...'), tn('...', '...', n))
// and merges them into i18n/*.po, keeping existing translations and dropping unused
// entries. Run `npm run i18n:extract` after adding texts, then translate i18n/ru.po.
import { readFileSync, writeFileSync, readdirSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { parsePo } = await import('./po2json.mjs');

const used = new Map(); // msgid -> plural msgid or null
const walk = (d) => {
  for (const f of readdirSync(d).sort()) {
    const p = join(d, f);
    if (statSync(p).isDirectory()) walk(p);
    else if (/\.tsx?$/.test(f)) {
      const src = readFileSync(p, 'utf8');
      for (const m of src.matchAll(/\b(tn?)\(\s*(['"])((?:\\.|(?!\2).)*)\2(?:\s*,\s*(['"])((?:\\.|(?!\4).)*)\4)?/g)) {
        const id = m[3].replace(/\\(['"\\])/g, '$1');
        if (!used.has(id)) used.set(id, m[1] === 'tn' && m[5] !== undefined ? m[5].replace(/\\(['"\\])/g, '$1') : null);
      }
    }
  }
};
walk(join(root, 'src'));

const q = (s) => JSON.stringify(s);
const headers = {
  ru: 'Language: ru\\nContent-Type: text/plain; charset=UTF-8\\nPlural-Forms: nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);\\n',
  en: 'Language: en\\nContent-Type: text/plain; charset=UTF-8\\nPlural-Forms: nplurals=2; plural=(n != 1);\\n',
};
for (const f of readdirSync(join(root, 'i18n')).filter((f) => f.endsWith('.po'))) {
  const lang = f.replace(/\.po$/, '');
  const old = new Map(parsePo(readFileSync(join(root, 'i18n', f), 'utf8')).filter((e) => e.msgid).map((e) => [e.msgid, e]));
  let out = `# Linkage web app, ${lang}. Generated entries by scripts/extract.mjs; translations by hand.\nmsgid ""\nmsgstr "${headers[lang] ?? ''}"\n`;
  for (const [id, plural] of [...used].sort((a, b) => a[0].localeCompare(b[0]))) {
    const e = old.get(id);
    out += '\n';
    if (plural !== null) {
      out += `msgid ${q(id)}\nmsgid_plural ${q(plural)}\n`;
      const n = lang === 'ru' ? 3 : 2;
      for (let i = 0; i < n; i++) out += `msgstr[${i}] ${q(e?.msgstr?.[i] ?? '')}\n`;
    } else {
      out += `msgid ${q(id)}\nmsgstr ${q(e?.msgstr?.[0] ?? '')}\n`;
    }
  }
  writeFileSync(join(root, 'i18n', f), out);
  console.log(`${f}: ${used.size} entries, ${[...used.keys()].filter((id) => !(old.get(id)?.msgstr?.[0])).length} untranslated`);
}
