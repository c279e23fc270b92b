import { inspect } from 'node:util';
import { createEmbedder } from '../../src/embedders';
import { embedderConfigFromEnv } from '../../src/embedders/config';
import { QwenSparseEmbedder } from '../../src/embedders/qwen';
import { TeiSparseEmbedder } from '../../src/embedders/tei';
import { startFakeEmbeddingServer, type FakeEmbeddingServer } from '../support/fake-embedding-server';

const KEY = 'sk-INPROC-5e6f7a8b9c0d1e2f';

/**
 * Everything a failing call can leave behind: the error in every form a program or a logger may render it
 * (message, stack, hint, String, JSON, util.inspect with hidden fields and the cause chain), the
 * embedder object itself, and whatever was written to stdout/stderr/console while the call ran.
 */
async function everythingPrintedBy(
  run: () => Promise<unknown>,
  embedder?: object,
): Promise<{ error: unknown; text: string }> {
  const written: string[] = [];
  const capture = (chunk: unknown) => {
    written.push(typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : String(chunk));
    return true;
  };
  const spies = [
    jest.spyOn(process.stdout, 'write').mockImplementation(capture),
    jest.spyOn(process.stderr, 'write').mockImplementation(capture),
    ...(['log', 'info', 'warn', 'error', 'debug', 'trace'] as const).map((m) =>
      jest
        .spyOn(console, m)
        .mockImplementation((...args: unknown[]) => void written.push(args.map((a) => inspect(a)).join(' '))),
    ),
  ];
  let error: unknown;
  try {
    await run();
  } catch (e) {
    error = e;
  } finally {
    for (const s of spies) s.mockRestore();
  }
  const e = error as Error & { hint?: string; cause?: unknown };
  const forms = [
    String(e?.message),
    String(e?.stack),
    String(e?.hint),
    String(e),
    JSON.stringify(e),
    JSON.stringify(e, Object.getOwnPropertyNames(e ?? {})),
    inspect(e, { depth: Infinity, showHidden: true }),
    inspect(e?.cause, { depth: Infinity, showHidden: true }),
    embedder ? inspect(embedder, { depth: Infinity, showHidden: true }) : '',
    embedder ? JSON.stringify(embedder) : '',
    ...written,
  ];
  return { error, text: forms.join('\n') };
}

describe('failing HTTP embedder calls never reveal the API key (in process)', () => {
  let server: FakeEmbeddingServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const qwenFromEnv = (url: string, extra: Record<string, string> = {}) =>
    createEmbedder(
      embedderConfigFromEnv({
        SPARSE_EMBEDDER_PROVIDER: 'qwen',
        SPARSE_EMBEDDER_API_KEY: KEY,
        SPARSE_EMBEDDER_BASE_URL: url,
        SPARSE_EMBEDDER_MAX_RETRIES: '1',
        SPARSE_EMBEDDER_BACKOFF_BASE_MS: '1',
        ...extra,
      }),
    );

  test('the capture works: a key that is printed is found', async () => {
    const { text } = await everythingPrintedBy(async () => {
      process.stderr.write(`debug ${KEY}\n`);
      throw new Error('boom');
    });
    expect(text).toContain(KEY);
  });

  test('bad key (401 InvalidApiKey)', async () => {
    server = await startFakeEmbeddingServer({ flavor: 'qwen', apiKey: 'the-valid-key' });
    const embedder = qwenFromEnv(server.url);
    const { error, text } = await everythingPrintedBy(() => embedder.embedDocuments(['a', 'b']), embedder);
    expect(error).toMatchObject({
      code: 'EMBEDDER_AUTH',
      message: 'DashScope rejected the API key (HTTP 401 InvalidApiKey).',
    });
    expect(server.requests[0].headers.authorization).toBe(`Bearer ${KEY}`); // it was sent...
    expect(text).not.toContain(KEY); // ...and never shown
    expect(text).not.toContain(KEY.slice(3, 15));
  });

  test('5xx until the retries run out, with a server that echoes the key back in its error body', async () => {
    const echo = {
      status: 500,
      body: { code: 'InternalError', message: `upstream failed for Authorization: Bearer ${KEY}` },
    };
    server = await startFakeEmbeddingServer({ flavor: 'qwen', script: [echo, echo] });
    const embedder = qwenFromEnv(server.url);
    const { error, text } = await everythingPrintedBy(() => embedder.embedQuery('q'), embedder);
    expect(error).toMatchObject({ code: 'EMBEDDER_HTTP' });
    expect((error as Error).message).toBe(
      'DashScope answered HTTP 500: InternalError: upstream failed for Authorization: Bearer ****. (gave up after 2 attempts)',
    );
    expect(text).not.toContain(KEY);
  });

  test('malformed answer that quotes the key, timeout, network error', async () => {
    server = await startFakeEmbeddingServer({
      flavor: 'qwen',
      script: [
        {
          status: 200,
          body: { output: { embeddings: [{ text_index: 0, sparse_embedding: [{ index: KEY, value: 1 }] }] } },
        },
      ],
    });
    const embedder = qwenFromEnv(server.url);
    const bad = await everythingPrintedBy(() => embedder.embedDocuments(['a']), embedder);
    expect(bad.error).toMatchObject({ code: 'EMBEDDER_BAD_RESPONSE' });
    expect(bad.text).not.toContain(KEY);
    await server.close();
    server = await startFakeEmbeddingServer({ flavor: 'qwen', latencyMs: 500 });
    const slow = qwenFromEnv(server.url, { SPARSE_EMBEDDER_TIMEOUT_MS: '50' });
    const timeout = await everythingPrintedBy(() => slow.embedDocuments(['a']), slow);
    expect(timeout.error).toMatchObject({ code: 'EMBEDDER_TIMEOUT' });
    expect(timeout.text).not.toContain(KEY);
    const url = server.url;
    await server.close();
    server = undefined;
    const down = qwenFromEnv(url);
    const network = await everythingPrintedBy(() => down.embedDocuments(['a']), down);
    expect(network.error).toMatchObject({ code: 'EMBEDDER_UNREACHABLE' });
    expect(network.text).not.toContain(KEY);
  });

  test('a key that cannot be sent in a header is refused up front, without being echoed', async () => {
    const broken = `${KEY}\nX-Injected: 1`;
    const { error, text } = await everythingPrintedBy(
      async () => new QwenSparseEmbedder({ apiKey: broken, baseUrl: 'http://127.0.0.1:9' }),
    );
    expect(error).toMatchObject({
      code: 'EMBEDDER_CONFIG',
      message: 'SPARSE_EMBEDDER_API_KEY contains whitespace or control characters.',
    });
    expect(text).not.toContain(KEY);
  });

  test('tei: a rejected Bearer token is not shown either', async () => {
    server = await startFakeEmbeddingServer({ flavor: 'tei', apiKey: 'right-token' });
    const embedder = new TeiSparseEmbedder({ baseUrl: server.url, apiKey: KEY, maxRetries: 0 });
    const { error, text } = await everythingPrintedBy(() => embedder.embedDocuments(['a']), embedder);
    expect(error).toMatchObject({ code: 'EMBEDDER_AUTH' });
    expect(text).not.toContain(KEY);
  });
});
