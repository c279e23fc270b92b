/**
 * Secret redaction. Every text that leaves the process through our logs, errors or progress output
 * can be passed through `redact`, which replaces each registered secret (and URL passwords) by ****.
 */
const secrets = new Set<string>();

/** Register a secret (API key, password) so that `redact` hides it. Short values are ignored. */
export function registerSecret(value: string | undefined | null): void {
  if (value && value.length >= 4) secrets.add(value);
}

const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^:/?#\s@]*:)([^@\s/]+)(@)/gi;

export function redact(text: string): string {
  let out = text.replace(URL_PASSWORD, '$1****$3');
  for (const s of secrets) {
    if (out.includes(s)) out = out.split(s).join('****');
  }
  return out;
}
