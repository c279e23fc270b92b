/**
 * The qwen provider sends DashScope what powermem sends for the same text, so a backfill writes the vectors
 * powermem computes and search compares vectors of one space.
 *
 * powermem's side, derived from its source (powermem 1.1.x):
 * - src/powermem/integrations/embeddings/qwen_sparse.py (QwenSparseEmbedding; seen at commit
 *   ab30d966595d5e048af677750dd585d02c26e71c of oceanbase/powercontext, the renamed oceanbase/powermem):
 *   model default "text-embedding-v4", embedding_dims default 1536, base URL default
 *   "https://dashscope.aliyuncs.com/api/v1" (or DASHSCOPE_BASE_URL); embed_sparse cleans the text with
 *   `text.replace("\n", " ").strip()` and calls TextEmbedding.call(model=..., input=text, output_type="sparse",
 *   dimension=embedding_dims, text_type=...), text_type "document" for add/update, "query" for search.
 * - dashscope SDK, dashscope/embeddings/text_embedding.py (TextEmbedding.call): a str input becomes
 *   input.texts = [text]; text_type, dimension and output_type go to `parameters`; the request is POSTed to
 *   {base}/services/embeddings/text-embedding/text-embedding.
 */
import { execFileSync } from 'node:child_process';
import { embedderConfigFromEnv } from '../../src/embedders/config';
import { createEmbedder } from '../../src/embedders';
import { cleanTextLikePowermem, DASHSCOPE_EMBEDDING_PATH, QwenSparseEmbedder } from '../../src/embedders/qwen';
import { startFakeEmbeddingServer, type FakeEmbeddingServer } from '../support/fake-embedding-server';

const KEY = 'sk-test-powermem-body';

type MemoryAction = 'add' | 'search';

/** The body powermem's embed_sparse makes the SDK send for one text (see the sources above). */
function powermemBody(cleanedText: string, action: MemoryAction) {
  return {
    model: 'text-embedding-v4',
    input: { texts: [cleanedText] },
    parameters: { output_type: 'sparse', dimension: 1536, text_type: action === 'search' ? 'query' : 'document' },
  };
}

/** Texts and what `text.replace("\n", " ").strip()` makes of them (written out by hand, checked with Python below). */
const CASES: Array<{ name: string; text: string; cleaned: string }> = [
  {
    name: 'Chinese',
    text: '用户喜欢在周末去爬山，并且对花生过敏。',
    cleaned: '用户喜欢在周末去爬山，并且对花生过敏。',
  },
  {
    name: 'English',
    text: '  User is allergic to peanuts and prefers window seats.  ',
    cleaned: 'User is allergic to peanuts and prefers window seats.',
  },
  {
    name: 'multi-line (LF, CRLF, tabs, trailing newlines, ideographic space)',
    text: '\u3000Meeting notes:\n- buy milk\r\n- call Bob\n\tend\n\n',
    cleaned: 'Meeting notes: - buy milk\r - call Bob \tend',
  },
];

let server: FakeEmbeddingServer;
beforeAll(async () => {
  server = await startFakeEmbeddingServer({ flavor: 'qwen', apiKey: KEY });
});
afterAll(async () => server.close());

function embedder(): QwenSparseEmbedder {
  // Configured as a powermem user would: provider and key only, everything else powermem's default.
  const config = embedderConfigFromEnv({ SPARSE_EMBEDDER_PROVIDER: 'qwen', SPARSE_EMBEDDER_API_KEY: KEY });
  const e = createEmbedder({ ...config, baseUrl: server.url }) as QwenSparseEmbedder;
  return e;
}

describe("qwen request body equals powermem's", () => {
  test.each(CASES)('$name: backfill (document) and search (query) bodies', async ({ text, cleaned }) => {
    const before = server.requests.length;
    await embedder().embedDocuments([text]);
    await embedder().embedQuery(text);
    const [doc, query] = server.requests.slice(before);
    expect(doc.path).toBe(DASHSCOPE_EMBEDDING_PATH);
    expect(doc.body).toEqual(powermemBody(cleaned, 'add'));
    expect(query.body).toEqual(powermemBody(cleaned, 'search'));
  });

  test('a batch of 3 texts is one request whose texts are, one by one, the texts powermem sends', async () => {
    const before = server.requests.length;
    await embedder().embedDocuments(CASES.map((c) => c.text));
    const [batch] = server.requests.slice(before);
    expect(server.requests.length - before).toBe(1);
    expect(batch.body.input.texts).toEqual(CASES.map((c) => powermemBody(c.cleaned, 'add').input.texts[0]));
    expect(batch.body.parameters).toEqual(powermemBody('', 'add').parameters);
  });

  test("default endpoint is powermem's base URL (mainland, /api/v1) plus the SDK's text-embedding path", () => {
    const config = embedderConfigFromEnv({ SPARSE_EMBEDDER_PROVIDER: 'qwen', SPARSE_EMBEDDER_API_KEY: KEY });
    const e = createEmbedder(config) as QwenSparseEmbedder;
    expect(e.endpoint).toBe(
      'https://dashscope.aliyuncs.com/api/v1' + '/services/embeddings/text-embedding/text-embedding',
    );
    expect(e.dims).toBe(1536);
    expect(e.model).toBe('text-embedding-v4');
  });

  test('DASHSCOPE_BASE_URL (read by powermem too) moves the endpoint for the qwen provider', () => {
    const config = embedderConfigFromEnv({
      SPARSE_EMBEDDER_PROVIDER: 'qwen',
      SPARSE_EMBEDDER_API_KEY: KEY,
      DASHSCOPE_BASE_URL: 'https://dashscope-intl.aliyuncs.com/api/v1',
    });
    expect((createEmbedder(config) as QwenSparseEmbedder).endpoint).toBe(
      'https://dashscope-intl.aliyuncs.com/api/v1/services/embeddings/text-embedding/text-embedding',
    );
  });
});

const python = (() => {
  try {
    execFileSync('python3', ['-c', 'pass'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

// The hand-written expectations above are checked against Python's own str.replace/str.strip (whose set of
// whitespace differs from JavaScript's trim()). Skipped, visibly, where python3 is missing.
(python ? test : test.skip)(
  "cleaning equals Python's text.replace('\\n', ' ').strip() on the cases and on the whitespace where JS and Python differ",
  () => {
    const texts = [...CASES.map((c) => c.text), '\u001c\u0085 x \ufeff', '\ufeff\u2028y\u001f', ' \r\n z \r\n'];
    const out = execFileSync(
      'python3',
      ['-c', 'import json,sys\nprint(json.dumps([t.replace("\\n", " ").strip() for t in json.load(sys.stdin)]))'],
      {
        input: JSON.stringify(texts),
        encoding: 'utf8',
      },
    );
    const fromPython = JSON.parse(out) as string[];
    expect(texts.map(cleanTextLikePowermem)).toEqual(fromPython);
    expect(fromPython.slice(0, CASES.length)).toEqual(CASES.map((c) => c.cleaned));
  },
);
