// Compiles the gettext catalogs web/i18n/*.po into src/i18n/*.json for the app:
// {"msgid": "msgstr"} and, for plurals, {"msgid": ["form0", "form1", ...]} in the
// order of the catalog's Plural-Forms (ru: one, few, many; en: one, other).
// Untranslated entries are left out, so the app falls back to the msgid (English).
// `node scripts/po2json.mjs --check` also fails when a catalog misses a msgid used in src/.
import { readFileSync, writeFileSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export function parsePo(text) {
  const entries = [];
  let cur = null, field = null;
  const unq = (s) => JSON.parse(s.replace(/\\'/g, "'"));
  const flush = () => { if (cur && cur.msgid !== undefined) entries.push(cur); cur = null; field = null; };
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '') { flush(); continue; }
    if (line.startsWith('#')) { if (cur && cur.msgid !== undefined) flush(); cur ??= { msgstr: [] }; if (line.startsWith('#,')) cur.flags = line.slice(2).trim(); continue; }
    let m;
    if ((m = line.match(/^(msgctxt|msgid|msgid_plural|msgstr)(?:\[(\d+)\])?\s+(".*")$/))) {
      if (m[1] === 'msgid' && cur && cur.msgid !== undefined) flush();
      cur ??= { msgstr: [] };
      field = m[2] !== undefined ? ['msgstr', +m[2]] : [m[1]];
      set(unq(m[3]));
    } else if (line.startsWith('"')) {
      set(unq(line), true);
    } else {
      throw new Error('po: cannot parse line: ' + raw);
    }
  }
  flush();
  return entries;
  function set(v, append) {
    if (field[0] === 'msgstr') {
      const i = field[1] ?? 0;
      cur.msgstr[i] = (append ? cur.msgstr[i] ?? '' : '') + v;
    } else {
      cur[field[0]] = (append ? cur[field[0]] ?? '' : '') + v;
    }
  }
}

function compile(entries) {
  const out = {};
  for (const e of entries) {
    if (!e.msgid || (e.flags ?? '').includes('fuzzy')) continue;
    const key = e.msgctxt ? e.msgctxt + '\u0004' + e.msgid : e.msgid;
    if (e.msgid_plural !== undefined) {
      if (e.msgstr.every((s) => s)) out[key] = e.msgstr;
    } else if (e.msgstr[0]) {
      out[key] = e.msgstr[0];
    }
  }
  return out;
}

// msgids used in the source: t('...'), tn('...', '...', n), t("...").
export function usedMsgids() {
  const ids = new Set();
  const walk = (d) => {
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.tsx?$/.test(f)) {
        const src = readFileSync(p, 'utf8');
        for (const m of src.matchAll(/\btn?\(\s*(['"])((?:\\.|(?!\1).)*)\1/g)) ids.add(m[2].replace(/\\(['"\\])/g, '$1'));
      }
    }
  };
  walk(join(root, 'src'));
  return ids;
}

if (process.argv[1] !== fileURLToPath(import.meta.url)) { /* imported by extract.mjs */ } else {
const outDir = join(root, 'src', 'i18n');
mkdirSync(outDir, { recursive: true });
let missing = 0;
const used = usedMsgids();
for (const f of readdirSync(join(root, 'i18n')).filter((f) => f.endsWith('.po'))) {
  const entries = parsePo(readFileSync(join(root, 'i18n', f), 'utf8'));
  const lang = f.replace(/\.po$/, '');
  writeFileSync(join(outDir, lang + '.json'), JSON.stringify(compile(entries)));
  const have = new Set(entries.map((e) => e.msgid));
  for (const id of used) if (!have.has(id)) { missing++; console.error(`${f}: no entry for ${JSON.stringify(id)}`); }
  // A translation must keep the msgid's {placeholders}, or a figure silently disappears.
  const ph = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort().join(',');
  for (const e of entries) {
    if (!e.msgid) continue;
    for (const s of e.msgstr.filter(Boolean)) {
      if (ph(s) !== ph(e.msgid) && !(e.msgid_plural && ph(s) === ph(e.msgid_plural))) {
        missing++;
        console.error(`${f}: ${JSON.stringify(s)} does not keep the placeholders of ${JSON.stringify(e.msgid)}`);
      }
    }
  }
}
if (missing && process.argv.includes('--check')) process.exit(1);
}
