/**
 * Stopwords of the local embedder, compared after NFKC + lower case (and, for English, after the
 * possessive 's is removed and ’ is replaced by '). They carry no meaning for retrieval and would only
 * add noise to every vector. This list is part of the local vectors' definition (see docs/embedders.md).
 */
export const ENGLISH_STOPWORDS: ReadonlySet<string> = new Set(
  (
    'a about above after again against all am an and any are as at be because been before being below between both but by ' +
    'can could did do does doing down during each few for from further had has have having he her here hers herself him ' +
    'himself his how i if in into is it its itself just me more most my myself no nor not now of off on once only or other ' +
    'our ours ourselves out over own same she should so some such than that the their theirs them themselves then there ' +
    'these they this those through to too under until up very was we were what when where which while who whom why will ' +
    "with would you your yours yourself yourselves also get got user users s t don't doesn't didn't i'm i've i'd i'll " +
    "it's that's there's they're they've we're we've you're you've can't won't isn't aren't wasn't"
  ).split(' '),
);

/**
 * Chinese and Japanese function words. They are dropped as words and, when they occur as single
 * characters inside a longer word, as character terms too.
 */
export const CJK_STOPWORDS: ReadonlySet<string> = new Set(
  // Chinese
  (
    '的 了 是 在 和 与 及 我 你 他 她 它 我们 你们 他们 这 那 这个 那个 有 也 就 都 而 之 或 一个 吗 呢 吧 啊 么 什么 ' +
    '怎么 为 对 把 被 让 给 着 过 要 会 能 很 还 又 并 等 以 于 其 该 此 从 到 上 下 中 用户 ' +
    // Japanese particles, auxiliaries and the assistant-memory subject
    'の は が を に で と も へ や か な て た し す ます です でした する います ある あり よく ユーザー'
  ).split(' '),
);
