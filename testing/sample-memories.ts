import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { quoteIdentifier as q } from '../src/identifiers';

/**
 * A sample memories table in the shape powermem's OceanBase storage creates (dense vector as JSON, since
 * MariaDB has no VECTOR type), and realistic rows for it. Used by the demo, the examples, the tests and the
 * benchmarks.
 */
export async function createMemoriesTable(knex: Knex, table = 'memories'): Promise<void> {
  await knex.raw(`CREATE TABLE IF NOT EXISTS ${q(table)} (
    id BIGINT NOT NULL PRIMARY KEY,
    embedding JSON NULL,
    document LONGTEXT NULL,
    metadata JSON NULL,
    user_id VARCHAR(128) NULL,
    agent_id VARCHAR(128) NULL,
    run_id VARCHAR(128) NULL,
    actor_id VARCHAR(128) NULL,
    hash VARCHAR(32) NULL,
    created_at VARCHAR(128) NULL,
    updated_at VARCHAR(128) NULL,
    category VARCHAR(64) NULL,
    fulltext_content LONGTEXT NULL
  ) CHARACTER SET utf8mb4`);
}

/** Snowflake-like ids above 2^53, so every id path must keep BIGINTs exact. */
export const SAMPLE_ID_BASE = 1_800_000_000_000_000_000n;

export function sampleId(i: number): string {
  return (SAMPLE_ID_BASE + BigInt(i) * 7919n).toString();
}

/** Deterministic PRNG (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const EN_SUBJECTS = [
  'The user',
  'User',
  'My sister',
  'The customer',
  'Alex',
  'The team lead',
  'My manager',
  'Our neighbour',
];
const EN_FACTS = [
  'prefers green tea over coffee in the morning',
  'is allergic to peanuts and shellfish',
  'plans a trip to Kyoto next spring to see the cherry blossoms',
  'runs five kilometres every Saturday along the river',
  'is learning to play the cello and practices on weekday evenings',
  'works as a data engineer on the payments platform',
  'wants reminders for the quarterly tax filing deadline',
  'has a golden retriever named Biscuit who needs a vet visit in June',
  'likes science fiction novels, especially books by Ursula K. Le Guin',
  'moved to Berlin in 2021 and is taking German lessons',
  'asked to keep meetings short and to send agendas in advance',
  'uses a standing desk and gets back pain after long flights',
  'is vegetarian and cooks Indian food on Sundays',
  'celebrates a wedding anniversary on the fourteenth of October',
  'prefers window seats and early morning flights',
];
const ZH_SUBJECTS = ['用户', '我妈妈', '客户', '小王', '团队负责人', '我的朋友'];
const ZH_FACTS = [
  '喜欢在周末去爬山,最喜欢的是黄山',
  '对花生过敏,点餐时需要特别注意',
  '每天早上喝一杯绿茶,不喝咖啡',
  '正在学习钢琴,每周二和周四晚上练习',
  '计划明年春天去日本京都看樱花',
  '在一家互联网公司做后端开发工程师',
  '养了一只叫豆豆的猫,下个月要打疫苗',
  '喜欢看科幻小说,尤其是刘慈欣的作品',
  '希望会议简短,并提前发送议程',
  '是素食者,周日喜欢做印度菜',
  '住在上海浦东,通勤需要一个小时',
  '每年十月十四日庆祝结婚纪念日',
];
const EN_TAILS = [
  '',
  ' This came up during the last conversation.',
  ' Mentioned twice this week.',
  ' Confirmed by the user on the phone.',
];
const ZH_TAILS = ['', '这是在上次对话中提到的。', '本周提到了两次。'];

/**
 * Text mixes: 'bench' (the default) is 20–500 characters (average ~175), ~40% Chinese; 'short' is one
 * English sentence or two Chinese ones, without tails (average ~50 characters), the same share of Chinese, as short chat memories.
 */
export type TextMix = 'bench' | 'short';

/** One realistic memory text, English or Chinese (see TextMix). */
export function sampleMemoryText(rand: () => number, mix: TextMix = 'bench'): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const chinese = rand() < 0.4;
  const sentences = mix === 'short' ? (chinese ? 2 : 1) : 1 + Math.floor(rand() * (chinese ? 6 : 4));
  const parts: string[] = [];
  for (let i = 0; i < sentences; i++) {
    // (Picks in the same order as always: the 'bench' mix stays the same texts for a seed.)
    parts.push(
      chinese
        ? `${pick(ZH_SUBJECTS)}${pick(ZH_FACTS)}。${mix === 'short' ? '' : pick(ZH_TAILS)}`
        : `${pick(EN_SUBJECTS)} ${pick(EN_FACTS)}.${mix === 'short' ? '' : pick(EN_TAILS)}`,
    );
  }
  const text = parts.join(chinese ? '' : ' ');
  return text.length > 500 ? text.slice(0, 500) : text.padEnd(20, chinese ? '。' : '.');
}

export interface SampleRowsOptions {
  table?: string;
  count: number;
  /** First row number (ids continue from there). */
  start?: number;
  seed?: number;
  /** Fraction of rows with an empty or whitespace text (default 0.01). */
  emptyRate?: number;
  /** Fraction of rows repeating an earlier text (default 0.02). */
  duplicateRate?: number;
  /** Rows per INSERT statement. */
  chunk?: number;
  /** The texts' lengths and languages (default 'bench'). */
  mix?: TextMix;
}

/** Bulk-insert realistic rows (multi-row INSERTs). Returns the number of rows inserted. */
export async function insertSampleMemories(knex: Knex, options: SampleRowsOptions): Promise<number> {
  const { count, start = 0, seed = 42, emptyRate = 0.01, duplicateRate = 0.02, chunk = 1000, mix } = options;
  const table = options.table ?? 'memories';
  const rand = seededRandom(seed + start);
  const recent: string[] = [];
  for (let from = 0; from < count; from += chunk) {
    const rows = [];
    for (let i = from; i < Math.min(count, from + chunk); i++) {
      const r = rand();
      let text: string;
      if (r < emptyRate) text = rand() < 0.5 ? '' : '   ';
      else if (r < emptyRate + duplicateRate && recent.length) text = recent[Math.floor(rand() * recent.length)];
      else text = sampleMemoryText(rand, mix);
      if (recent.length < 64) recent.push(text);
      else recent[Math.floor(rand() * 64)] = text;
      const n = start + i;
      rows.push({
        id: sampleId(n),
        document: text,
        embedding: JSON.stringify([
          Number(rand().toFixed(4)),
          Number(rand().toFixed(4)),
          Number(rand().toFixed(4)),
          Number(rand().toFixed(4)),
        ]),
        metadata: JSON.stringify({ source: 'sample', n }),
        user_id: `user_${n % 17}`,
        agent_id: 'agent_demo',
        run_id: null,
        actor_id: null,
        hash: createHash('md5').update(text).digest('hex'),
        created_at: new Date(Date.UTC(2025, 0, 1) + n * 60_000).toISOString(),
        updated_at: new Date(Date.UTC(2025, 0, 1) + n * 60_000).toISOString(),
        category: chinese(text) ? 'zh' : 'en',
        fulltext_content: text,
      });
    }
    await knex(table).insert(rows);
  }
  return count;
}

function chinese(text: string): boolean {
  return /[\u4e00-\u9fff]/.test(text);
}
