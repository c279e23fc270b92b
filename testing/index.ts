/**
 * sparse-vector-migration/testing: helpers for an application's own tests and benchmarks, kept out of the
 * package's main entry. A sample memories table in powermem's shape with realistic rows, a fresh scratch
 * database, a fake DashScope/TEI embedding server, and a check of the stored vectors.
 */
export {
  createMemoriesTable,
  insertSampleMemories,
  sampleId,
  sampleMemoryText,
  seededRandom,
  SAMPLE_ID_BASE,
  type SampleRowsOptions,
} from './sample-memories';
export { scratchDatabase } from './scratch-database';
export {
  startFakeEmbeddingServer,
  type FakeEmbeddingServer,
  type FakeServerOptions,
  type RecordedRequest,
  type ScriptedResponse,
} from './fake-embedding-server';
export { checkStoredVectors, type TableCheck } from './table-check';
