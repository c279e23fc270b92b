import path from 'node:path';
import type { Knex } from 'knex';
import {
  listScriptFiles,
  loadMigrationModule,
  MIGRATIONS_DIR,
  SEEDERS_DIR,
  SCRIPT_EXTENSION,
} from '../migrator/migration-files';

/* knex's own file sources, from the application's knex (a peer dependency): its migrations and seeds are
 * listed exactly as knex lists them. knex publishes these modules but no type declarations for them. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { FsMigrations } = require('knex/lib/migrations/migrate/sources/fs-migrations') as {
  FsMigrations: new (
    dirs: unknown,
    sortDirsSeparately?: boolean,
    loadExtensions?: readonly string[],
  ) => AppMigrationSource;
};
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { FsSeeds } = require('knex/lib/migrations/seed/sources/fs-seeds') as {
  FsSeeds: new (dirs: unknown, sortDirsSeparately?: boolean, loadExtensions?: readonly string[]) => AppSeedSource;
};

type AppMigrationSource = Knex.MigrationSource<unknown>;
interface AppSeedSource {
  getSeeds(config: Record<string, unknown>): Promise<string[]>;
  getSeed(file: string): Promise<unknown>;
  _getConfigDirectories(logger: unknown): string[];
}

/** A listed migration: the application's (as its source returned it) or ours. `file` is what knex's CLI prints. */
export interface ComposedMigration {
  file: string;
  app?: unknown;
  sparseVectorPath?: string;
}

export interface FsSettings {
  directory?: string | readonly string[];
  sortDirsSeparately?: boolean;
  loadExtensions?: readonly string[];
}

/**
 * The application's migrations plus ours, in one list for the application's knex ledger. Sorted as knex sorts
 * by name (lodash sortBy on the name, stable); with sortDirsSeparately ours come after the app's, as a last
 * directory would.
 */
export class ComposedMigrationSource implements Knex.MigrationSource<ComposedMigration> {
  private readonly app: AppMigrationSource;
  private readonly ownFs: boolean;

  constructor(app: { migrationSource?: AppMigrationSource } & FsSettings) {
    this.ownFs = !app.migrationSource;
    this.app =
      app.migrationSource ??
      new FsMigrations(app.directory ?? './migrations', app.sortDirsSeparately, app.loadExtensions);
    this.sortDirsSeparately = !!app.sortDirsSeparately;
  }

  private readonly sortDirsSeparately: boolean;

  async getMigrations(loadExtensions: readonly string[]): Promise<ComposedMigration[]> {
    // knex passes its default extensions: the app's own FsMigrations keeps the app's loadExtensions instead.
    const listed = await (this.app.getMigrations as (ext?: readonly string[]) => Promise<unknown[]>)(
      this.ownFs ? undefined : loadExtensions,
    );
    const app = listed.map((m) => ({ file: this.app.getMigrationName(m), app: m }));
    const ours = listScriptFiles(MIGRATIONS_DIR).map((f) => ({ file: f.name, sparseVectorPath: f.path }));
    if (this.sortDirsSeparately) return [...app, ...ours];
    return stableSortBy([...app, ...ours], (m) => m.file);
  }

  getMigrationName(m: ComposedMigration): string {
    return m.file;
  }

  async getMigration(m: ComposedMigration): Promise<Knex.Migration> {
    if (m.sparseVectorPath) return loadMigrationModule(m.sparseVectorPath);
    return this.app.getMigration(m.app);
  }
}

/**
 * The application's seeds (listed by knex's own FsSeeds, or its seedSource) followed by our backfill
 * seeder, which runs last since the application's seeds may add the rows it fills. New seeds (`seed:make`)
 * go to the application's directories only.
 */
export class ComposedSeedSource {
  private readonly app: AppSeedSource;
  private readonly appExtensions?: readonly string[];
  private readonly tolerateMissingDir: boolean;

  constructor(app: { seedSource?: AppSeedSource } & FsSettings) {
    this.app = app.seedSource ?? new FsSeeds(app.directory ?? './seeds', app.sortDirsSeparately, app.loadExtensions);
    this.appExtensions = app.loadExtensions;
    // An app that configured no seeds directory may have none: our seeder still runs.
    this.tolerateMissingDir = !app.seedSource && !app.directory;
  }

  _getConfigDirectories(logger: unknown): string[] {
    return this.app._getConfigDirectories(logger);
  }

  async getSeeds(config: Record<string, unknown>): Promise<string[]> {
    const specific = config.specific as string | null | undefined;
    const ours = listScriptFiles(SEEDERS_DIR)
      .map((f) => f.path)
      .filter((p) => !specific || path.basename(p) === specific);
    if (specific && ours.length > 0) return ours;
    const app = await this.app
      .getSeeds({ ...config, loadExtensions: this.appExtensions ?? config.loadExtensions })
      .catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT' && this.tolerateMissingDir) return [];
        throw err;
      });
    return [...app, ...ours];
  }

  async getSeed(file: string): Promise<unknown> {
    if (path.dirname(file) === SEEDERS_DIR && file.endsWith(SCRIPT_EXTENSION)) return loadMigrationModule(file);
    return this.app.getSeed(file);
  }
}

function stableSortBy<T>(items: T[], key: (item: T) => string): T[] {
  return items
    .map((item, index) => ({ item, index, k: key(item) }))
    .sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : a.index - b.index))
    .map((e) => e.item);
}
