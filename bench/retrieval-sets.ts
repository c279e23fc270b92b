import { memories, queries } from '../test/fixtures/retrieval-set';
import enNodejsDocs from '../test/fixtures/real-text/en-nodejs-docs.json';
import zhManpages from '../test/fixtures/real-text/zh-manpages.json';

/** A retrieval set: documents, and queries each with the one document that answers it. */
export interface RetrievalSet {
  name: string;
  description: string;
  documents: Array<{ id: number; text: string }>;
  queries: Array<{ query: string; relevantId: number }>;
}

function realTextSet(json: Omit<RetrievalSet, 'description'>, description: string): RetrievalSet {
  return { name: json.name, description, documents: json.documents, queries: json.queries };
}

/**
 * The sets `npm run eval` measures: the 26 hand-written memory queries (test/fixtures/retrieval-set.ts) and
 * the real-text sets of test/fixtures/real-text (built by scripts/build-real-text-set.ts; see its README).
 */
export function retrievalSets(): RetrievalSet[] {
  return [
    {
      name: 'memories-26',
      description: '30 memories (en/zh/ja), 26 paraphrased queries',
      documents: memories,
      queries,
    },
    realTextSet(enNodejsDocs, 'Node.js API docs: section heading -> section text'),
    realTextSet(zhManpages, 'Chinese man pages: NAME summary -> DESCRIPTION'),
  ];
}
