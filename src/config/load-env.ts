import path from 'node:path';
import dotenv from 'dotenv';

/**
 * Load `.env` from the working directory (or the given path) into process.env, without
 * overriding variables that are already set. Quiet: dotenv's banner is turned off.
 */
export function loadDotenv(file = path.resolve(process.cwd(), '.env')): void {
  dotenv.config({ path: file, quiet: true });
}
