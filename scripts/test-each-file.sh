#!/usr/bin/env bash
# Run every test file alone (its own jest process, in band, random order inside it, seed printed), so that a
# file that only passes after another one has run shows up. `npm run test:each [-- <path filter>]`.
# Needs `npm run build` first (some tests run the compiled CLIs); prints one line per file and a summary,
# and exits non-zero if any file failed. Logs: .test-each/<file>.log
set -u
cd "$(dirname "$0")/.."
filter="${1:-}"
mkdir -p .test-each
pass=0; fail=0; failed=()
while IFS= read -r file; do
  log=".test-each/$(echo "$file" | tr '/' '_').log"
  started=$(date +%s)
  if npx jest --runInBand --ci "$file" >"$log" 2>&1; then status=pass; pass=$((pass + 1)); else status=FAIL; fail=$((fail + 1)); failed+=("$file"); fi
  seed=$(grep -o 'Seed: *-\?[0-9]*' "$log" | head -1 | tr -s ' ')
  printf '%-4s %4ss  %-60s %s\n' "$status" "$(($(date +%s) - started))" "$file" "$seed"
done < <(find test -name '*.test.ts' | grep -- "$filter" | sort)
echo "files: $((pass + fail)), passed: $pass, failed: $fail"
for f in "${failed[@]}"; do echo "failed: $f (log: .test-each/$(echo "$f" | tr '/' '_').log)"; done
[ "$fail" -eq 0 ]
