/**
 * Rebuilds the real-text retrieval sets in test/fixtures/real-text/ from documentation that Debian
 * packages install (text nobody in this project wrote; see test/fixtures/real-text/README.md):
 *
 *   mkdir -p /tmp/real-text && cd /tmp/real-text && apt-get download nodejs-doc manpages-zh
 *   for f in *.deb; do dpkg-deb -x "$f" root; done
 *   npm run build && node dist/scripts/build-real-text-set.js --root /tmp/real-text/root
 *
 * (Extract, don't `apt-get install`: nodejs-doc conflicts with NodeSource's nodejs package, and installing
 * it removes the Node.js the project runs on; an installed /usr/share/man/zh_CN also holds other
 * packages' pages. --root is therefore required.)
 *
 * English (nodejs-doc, MIT): each section of the Node.js API docs whose heading is prose (no code, at
 * least two words) gives one query (the heading) and one document (the section's first prose, up to
 * ~500 characters). Chinese (manpages-zh, GFDL-1.2+): each zh_CN manual page gives one query (the
 * summary of its NAME line, without the command name) and one document (its DESCRIPTION, up to ~300
 * characters). Queries that occur twice are dropped (they have no single right answer). The output is
 * deterministic: files are read in sorted order.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const ROOT = path.resolve(__dirname, '..', '..');
const OUT = path.join(ROOT, 'test', 'fixtures', 'real-text');
const rootFlag = process.argv.indexOf('--root');
const SOURCE_ROOT = rootFlag > 0 && process.argv[rootFlag + 1] ? path.resolve(process.argv[rootFlag + 1]) : '';
const NODE_DOCS = path.join(SOURCE_ROOT, 'usr/share/doc/nodejs/api');
const ZH_MAN = path.join(SOURCE_ROOT, 'usr/share/man/zh_CN');
/** Pages that Debian's copyright file lists under the GPL instead of the package's GFDL-1.2+. */
const ZH_GPL_PAGES = new Set(['man1/kill.1', 'man6/intro.6', 'man7/epoll.7']);

export interface RealTextSet {
  name: string;
  source: string;
  licence: string;
  documents: Array<{ id: number; text: string }>;
  queries: Array<{ query: string; relevantId: number }>;
}

interface Pair {
  query: string;
  text: string;
}

function readMaybeGzip(file: string): string {
  const raw = fs.readFileSync(file);
  return (file.endsWith('.gz') ? zlib.gunzipSync(raw) : raw).toString('utf8');
}

/** Cut `text` at the last sentence end (., 。, !, ?) before `max` characters, else at a space. */
function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const head = text.slice(0, max);
  const end = Math.max(head.lastIndexOf('. '), head.lastIndexOf('。'), head.lastIndexOf('! '), head.lastIndexOf('? '));
  if (end > max / 2) return head.slice(0, end + 1);
  const space = head.lastIndexOf(' ');
  return space > max / 2 ? head.slice(0, space) : head;
}

function markdownProse(lines: string[]): string {
  const out: string[] = [];
  let fenced = false;
  for (const line of lines) {
    if (line.startsWith('```')) fenced = !fenced;
    else if (
      !fenced &&
      !line.startsWith('<!--') &&
      !line.startsWith('>') &&
      !line.startsWith('|') &&
      !/^\[[^\]]+\]:/.test(line)
    )
      out.push(line);
  }
  return out
    .join(' ')
    .replace(/<!--[\s\S]*?-->/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/\[([^\]]+)\]\[[^\]]*\]/g, '$1')
    .replace(/\[([^\]]+)\]\([^)]*\)/g, '$1')
    .replace(/\[([^\]]+)\]/g, '$1')
    .replace(/\{([^}]+)\}/g, '$1')
    .replace(/[`*]/g, '')
    .replace(/(^|\s)_([^_]+)_/g, '$1$2')
    .replace(/(^|\s)[-*] /g, '$1')
    .replace(/\s+/g, ' ')
    .trim();
}

function nodeDocPairs(): Pair[] {
  const pairs: Pair[] = [];
  const files = fs
    .readdirSync(NODE_DOCS)
    .filter((f) => f.endsWith('.md.gz') && f !== 'all.md.gz' && f !== 'index.md.gz')
    .sort();
  for (const file of files) {
    const lines = readMaybeGzip(path.join(NODE_DOCS, file)).split('\n');
    for (let i = 0; i < lines.length; i++) {
      const m = /^#{2,5} (.+)$/.exec(lines[i]);
      if (!m) continue;
      const heading = m[1].trim();
      let j = i + 1;
      while (j < lines.length && !/^#{1,6} /.test(lines[j])) j++;
      // Prose headings only: code, events and signatures are identifiers, not questions.
      if (/[`'"(){}<>:=]|^Class\b|^Event\b/.test(heading) || heading.split(/\s+/).length < 2) continue;
      const text = clip(markdownProse(lines.slice(i + 1, j)), 500);
      if (text.length >= 80) pairs.push({ query: heading, text });
    }
  }
  return pairs;
}

/** Plain text of roff source lines: requests dropped (their arguments kept for font macros), escapes removed. */
function roffText(lines: string[]): string {
  const out: string[] = [];
  for (const line of lines) {
    if (line.startsWith('.\\"') || line.startsWith('\'\\"')) continue;
    const req = /^\.(B|I|BR|BI|IB|IR|RB|RI|SM|SB)\s+(.*)$/.exec(line);
    if (req) out.push(req[2].replace(/"/g, ''));
    else if (!line.startsWith('.') && !line.startsWith("'")) out.push(line);
  }
  return out
    .join(' ')
    .replace(/\\f(\[[^\]]*\]|\(..|.)/g, '')
    .replace(/\\\(em|\\\(en/g, '—')
    .replace(/\\\((lq|rq|dq)/g, '"')
    .replace(/\\\(..|\\\[[^\]]*\]/g, ' ')
    .replace(/\\[-]/g, '-')
    .replace(/\\[&,/|^%:]/g, '')
    .replace(/\\e/g, '\\')
    .replace(/\\ /g, ' ')
    .replace(/\\(.)/g, '$1')
    .replace(/\s+/g, ' ')
    .trim();
}

function manSection(lines: string[], names: RegExp): string[] | undefined {
  const start = lines.findIndex((l) => /^\.SH\s/.test(l) && names.test(l.slice(3).replace(/"/g, '').trim()));
  if (start < 0) return undefined;
  let end = start + 1;
  while (end < lines.length && !/^\.SH\s/.test(lines[end])) end++;
  return lines.slice(start + 1, end);
}

function zhManPairs(): Pair[] {
  const pairs: Pair[] = [];
  for (const dir of fs
    .readdirSync(ZH_MAN)
    .filter((d) => /^man\d$/.test(d))
    .sort()) {
    for (const file of fs.readdirSync(path.join(ZH_MAN, dir)).sort()) {
      if (ZH_GPL_PAGES.has(`${dir}/${file.replace(/\.gz$/, '')}`)) continue;
      const lines = readMaybeGzip(path.join(ZH_MAN, dir, file)).split('\n');
      const name = manSection(lines, /^(名称|名字|NAME)$/i);
      const description = manSection(lines, /^(描述|说明|简介|DESCRIPTION)$/i);
      if (!name || !description) continue;
      const nameLine = roffText(name);
      const dash = nameLine.search(/\s-\s|\s—\s/);
      if (dash < 0) continue;
      const query = nameLine.slice(dash + 3).trim();
      // A Chinese summary (a page left in English teaches nothing about Chinese retrieval).
      if (!/[\u4e00-\u9fff]/.test(query) || query.length < 3) continue;
      const text = clip(roffText(description), 300);
      if (text.length >= 30 && /[\u4e00-\u9fff]/.test(text)) pairs.push({ query, text });
    }
  }
  return pairs;
}

function toSet(name: string, source: string, licence: string, pairs: Pair[]): RealTextSet {
  const count = new Map<string, number>();
  for (const p of pairs) count.set(p.query.toLowerCase(), (count.get(p.query.toLowerCase()) ?? 0) + 1);
  const documents: RealTextSet['documents'] = [];
  const queries: RealTextSet['queries'] = [];
  for (const p of pairs) {
    const id = documents.length + 1;
    documents.push({ id, text: p.text });
    // Every section stays in the corpus; only unambiguous headings become queries.
    if (count.get(p.query.toLowerCase()) === 1) queries.push({ query: p.query, relevantId: id });
  }
  return { name, source, licence, documents, queries };
}

function main(): void {
  if (!SOURCE_ROOT)
    throw new Error(
      '--root is missing.\nExtract the packages nodejs-doc and manpages-zh and pass their root with --root (see the top of scripts/build-real-text-set.ts).',
    );
  for (const dir of [NODE_DOCS, ZH_MAN]) {
    if (!fs.existsSync(dir))
      throw new Error(
        `${dir} is missing.\nExtract the packages nodejs-doc and manpages-zh and pass their root with --root (see the top of scripts/build-real-text-set.ts).`,
      );
  }
  fs.mkdirSync(OUT, { recursive: true });
  const sets = [
    toSet(
      'en-nodejs-docs',
      'Debian package nodejs-doc (Node.js API documentation, /usr/share/doc/nodejs/api/*.md.gz)',
      'MIT (Expat), Copyright Node.js contributors, Joyent, Inc. and other Node contributors',
      nodeDocPairs(),
    ),
    toSet(
      'zh-manpages',
      'Debian package manpages-zh (Chinese manual pages, /usr/share/man/zh_CN)',
      'GFDL-1.2+ (see LICENSE-manpages-zh), Copyright the manpages-zh and CMPP translators',
      zhManPairs(),
    ),
  ];
  for (const set of sets) {
    fs.writeFileSync(path.join(OUT, `${set.name}.json`), JSON.stringify(set, null, 1) + '\n');
    process.stdout.write(`${set.name}: ${set.documents.length} documents, ${set.queries.length} queries\n`);
  }
}

if (require.main === module) {
  try {
    main();
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  }
}
