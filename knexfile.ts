/**
 * knexfile for `npx knex migrate:latest|rollback|status|up|down` and `npx knex seed:run`.
 * knex's CLI loads this file through a TypeScript loader it finds in node_modules (sucrase, a dev
 * dependency of this repository); configuration comes from .env / the environment (see .env.example).
 * In an application, write your own knexfile that exports `createKnexfileConfig` from 'sparse-vector-migration'.
 */
import { createKnexfileConfig } from './src/migrator/knexfile-config';

export default createKnexfileConfig;
