import { redact } from '../util/redact';

export interface DoctorCheck {
  name: string;
  status: 'ok' | 'failed' | 'skipped';
  /** What was run (the statement) or found. */
  detail: string;
  /** The server's own error: code (errno): message. */
  error?: string;
}

export interface DoctorReport {
  /** The server, as VERSION() describes it. */
  server: string;
  storage: 'native' | 'json';
  /** The table the checks ran in (created and dropped by the run). */
  scratchTable: string;
  checks: DoctorCheck[];
  /** Every check passed. */
  ok: boolean;
}

/** "ER_PARSE_ERROR (1064): You have an error in your SQL syntax; ...": the server's words, not knex's SQL prefix. */
export function serverError(err: unknown): string {
  const e = err as { code?: string; errno?: number; sqlMessage?: string; message?: string } | undefined;
  const message = e?.sqlMessage ?? e?.message ?? String(err);
  const code = e?.errno !== undefined ? `${e.code ?? 'error'} (${e.errno}): ` : e?.code ? `${e.code}: ` : '';
  return redact(`${code}${message}`);
}

/** One line per check, then a summary line. */
export function formatDoctorReport(r: DoctorReport): string[] {
  const lines = [
    `Doctor: ${r.server}, ${r.storage === 'native' ? 'native storage (SPARSEVECTOR)' : 'portable storage (JSON)'}, scratch table ${r.scratchTable}`,
  ];
  for (const c of r.checks) {
    const mark = c.status === 'ok' ? '✓' : c.status === 'failed' ? '✗' : '-';
    lines.push(`${mark} ${c.name}: ${c.detail}${c.error ? ` -> ${c.error}` : ''}`);
  }
  const failed = r.checks.filter((c) => c.status !== 'ok').length;
  lines.push(
    r.ok
      ? `Doctor: all ${r.checks.length} checks passed.`
      : `Doctor: ${failed} of ${r.checks.length} checks failed or were skipped.`,
  );
  return lines;
}
