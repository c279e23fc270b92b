import { countNullRows, hasText } from '../../src/backfill/queries';
import { quoteIdentifier as q } from '../../src/identifiers';
import { createTestDatabase, type TestDatabase } from '../support/db';

/*
 * hasText (which rows are eligible) takes texts that start with a printable ASCII character without the
 * regular expression. These tests hold it to the regular expression's answer on the real server, in the
 * character sets a memory table may use, for the texts where a shortcut could go wrong: every kind of
 * whitespace first, ASCII's edges (space, '!', '~', DEL, control characters), wide characters whose codes
 * look like ASCII in another encoding.
 */

const TEXTS = [
  '',
  ' ',
  '  \t\n\r',
  '\u000b\u000c',
  'a',
  ' a',
  '\tx',
  '!',
  '~',
  '"quoted"',
  '\u007f',
  '\u0001',
  '\u0000x',
  '\u00a0',
  '\u00a0x',
  '\u0085',
  '\u3000',
  '\u3000\u3000',
  '\u3000文',
  '文',
  '\u2003\u2028\u2029',
  '\u200b',
  '\u180e',
  '\u1680',
  '\u205f',
  '\u202f',
  '\ufeff',
  '😀',
  'é',
  '\u2100',
  '\u4e21',
  '\u3000\u3000\u3000', // in utf16le its first byte is 0 and its code (ORD) 48, the code of '0'
  '\u202f\u205f', // in utf16le their first bytes are '/' and '_'
  '\u2028\u2029',
];

/** Each column: a character set the text column may have (the regular expression's answer depends on it). */
const COLUMNS: Array<{ name: string; type: string }> = [
  { name: 'utf8mb4_text', type: 'LONGTEXT CHARACTER SET utf8mb4' },
  { name: 'ucs2_text', type: 'TEXT CHARACTER SET ucs2' },
  { name: 'utf16_text', type: 'TEXT CHARACTER SET utf16' },
  { name: 'utf16le_text', type: 'TEXT CHARACTER SET utf16le' },
  { name: 'utf32_text', type: 'TEXT CHARACTER SET utf32' },
  { name: 'latin1_text', type: 'TEXT CHARACTER SET latin1' },
  { name: 'gbk_text', type: 'TEXT CHARACTER SET gbk' },
  { name: 'blob_text', type: 'LONGBLOB' },
];

describe('hasText: the regular expression decides, the ASCII shortcut never changes the answer', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('has_text');
    await db.knex.raw(
      `CREATE TABLE texts (id INT NOT NULL PRIMARY KEY, v LONGTEXT NULL, ${COLUMNS.map((c) => `${c.name} ${c.type} NULL`).join(', ')})`,
    );
    const rows = [...TEXTS, null].map((text, id) => ({ id, text }));
    for (const { id, text } of rows) {
      await db.knex.raw('INSERT INTO texts (id) VALUES (?)', [id]);
      // Each column gets the text converted by the server; a character its character set cannot hold
      // becomes '?' (UPDATE IGNORE: a warning instead of strict mode's error).
      for (const c of COLUMNS) await db.knex.raw(`UPDATE IGNORE texts SET ${q(c.name)} = ? WHERE id = ?`, [text, id]);
    }
  });
  afterAll(async () => db.drop());

  test.each(COLUMNS.map((c) => [c.name]))('%s: the same rows as the regular expression alone', async (column) => {
    const col = q(column);
    const [rows] = (await db.knex.raw(
      `SELECT id, HEX(${col}) AS hex, ${hasText(col)} AS fast, ` +
        `(${col} IS NOT NULL AND ${col} REGEXP '[^[:space:]]') AS exact FROM texts ORDER BY id`,
    )) as [Array<{ id: number; hex: string | null; fast: number; exact: number }>];
    expect(rows).toHaveLength(TEXTS.length + 1);
    const differing = rows.filter((r) => Number(r.fast) !== Number(r.exact));
    expect(differing).toEqual([]);
    // The set is worth testing: some texts are empty to the server, some are not, in every character set.
    const exact = rows.map((r) => Number(r.exact));
    expect(exact).toContain(0);
    expect(exact).toContain(1);
  });

  test('utf8mb4: whitespace-only texts, Unicode spaces included, are not eligible; the others are', async () => {
    const col = q('utf8mb4_text');
    const [rows] = (await db.knex.raw(`SELECT id FROM texts WHERE ${hasText(col)} ORDER BY id`)) as [
      Array<{ id: number }>,
    ];
    const eligible = rows.map((r) => TEXTS[r.id]);
    for (const blank of ['', ' ', '  \t\n\r', '\u000b\u000c', '\u00a0', '\u0085', '\u3000', '\u3000\u3000'])
      expect(eligible).not.toContain(blank);
    for (const text of ['a', ' a', '!', '~', '\u007f', '\u0001', '\u3000文', '文', '\u200b', '😀', '\u2100'])
      expect(eligible).toContain(text);
  });

  test('countNullRows counts each NULL row once: eligible plus empty is every NULL row', async () => {
    const target = {
      table: 'texts',
      idColumn: 'id',
      textColumn: 'utf8mb4_text',
      sparseColumn: 'v',
      sparseIndex: 'v_idx',
    };
    const counted = await countNullRows(db.knex, target);
    const [[all]] = (await db.knex.raw(
      `SELECT SUM(utf8mb4_text IS NOT NULL AND utf8mb4_text REGEXP '[^[:space:]]') AS eligible, COUNT(*) AS n FROM texts`,
    )) as [Array<{ eligible: string; n: number }>];
    expect(counted).toEqual({ eligible: Number(all.eligible), empty: Number(all.n) - Number(all.eligible) });
  });
});
