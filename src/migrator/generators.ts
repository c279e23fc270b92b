import { SparseVectorError } from '../errors';

/**
 * The standalone route (our `umzug` bin, our knexfile) runs only this package's migrations and seeder, which
 * live in node_modules: a generated file would land there, be run as ours, and vanish on the next install.
 */
export function refuseGenerator(command: string): SparseVectorError {
  return new SparseVectorError(
    'GENERATOR_REFUSED',
    `${command} is not available in sparse-vector-migration's own migration setup: the new file would be written inside node_modules.`,
    {
      hint:
        "Create your migrations and seeds with your application's own knex (knexfile with withSparseVector) or Umzug " +
        '(with sparseVectorMigrations()): see "Adding it to your application" in the README of sparse-vector-migration.',
    },
  );
}
