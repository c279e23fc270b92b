/**
 * Secret redaction. Every text that leaves the process through our logs, errors or progress output
 * can be passed through `redact`, which replaces each registered secret (and URL passwords) by ****.
 */
const secrets = new Set<string>();

/** Register a secret (API key, password) so that `redact` hides it. Short values are ignored. */
export function registerSecret(value: string | undefined | null): void {
  if (value && value.length >= 4) secrets.add(value);
}

export function redact(text: string): string {
  // A URL's password (scheme://user:password@): the pattern is written here, not in a module constant, so that
  // mutation testing can tell which test covers it (see stryker.config.mjs, ignoreStatic).
  let out = text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^:/?#\s@]*:)([^@\s/]+)(@)/gi, '$1****$3');
  for (const s of secrets) out = out.split(s).join('****');
  return out;
}
