import fs from 'node:fs';
import path from 'node:path';

/**
 * True when this code runs from the sparse-vector-migration source repository (where scripts/db.sh and
 * `npm run db:start` exist), false in an application that installed the package: hints name only what
 * exists where they are printed.
 */
export function insideSourceRepository(): boolean {
  // src/util (from source) or dist/src/util (compiled): the package root is two or three levels up.
  return [path.resolve(__dirname, '..', '..'), path.resolve(__dirname, '..', '..', '..')].some(
    (root) => fs.existsSync(path.join(root, 'scripts', 'db.sh')) && fs.existsSync(path.join(root, 'src', 'index.ts')),
  );
}
