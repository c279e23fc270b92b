import type { Knex } from 'knex';
import { LocalSparseEmbedder } from '../src/embedders/local';
import type { SparseEmbedder } from '../src/embedders/types';
import { parsePortableJson, sparseEquals } from '../src/sparse/sparse-vector';

export interface TableCheck {
  rows: number;
  embedded: number;
  nullEligible: number;
  nullEmpty: number;
  /** Rows whose stored vector is not the embedding of their current text. */
  wrong: string[];
}

/**
 * Compare every stored (portable JSON) vector of `table` with the embedding of the row's current
 * `document`, and count the rows (for the fault tests and the soak). Rows for which `skip(id)` holds
 * (values another writer put there) are counted but not compared.
 */
export async function checkStoredVectors(
  knex: Knex,
  table = 'memories',
  embedder: SparseEmbedder = new LocalSparseEmbedder(),
  skip: (id: string) => boolean = () => false,
): Promise<TableCheck> {
  const rows: Array<{ id: string; document: string | null; sparse_embedding: string | null }> = await knex(
    table,
  ).select('id', 'document', 'sparse_embedding');
  const check: TableCheck = { rows: rows.length, embedded: 0, nullEligible: 0, nullEmpty: 0, wrong: [] };
  const toEmbed = rows.filter((r) => r.sparse_embedding !== null && !skip(String(r.id)));
  const expected = await embedder.embedDocuments(toEmbed.map((r) => r.document ?? ''));
  toEmbed.forEach((r, i) => {
    if (!sparseEquals(parsePortableJson(r.sparse_embedding), expected[i])) check.wrong.push(String(r.id));
  });
  for (const r of rows) {
    if (r.sparse_embedding !== null) check.embedded++;
    else if ((r.document ?? '').trim() === '') check.nullEmpty++;
    else check.nullEligible++;
  }
  return check;
}
