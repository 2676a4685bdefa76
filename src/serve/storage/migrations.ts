// The bookkeeping of numbered schema migrations that both databases follow: each database keeps its
// own list (its own SQL) and records what it applied in a schema_migrations table; this module
// says which of the list are still to apply. Running them, in one transaction, is each database's.

export interface Migration {
  version: number;
  sql: string;
}

/** The migrations whose version is not among applied, in version order; throws on a list that repeats a version. */
export function pendingMigrations(migrations: readonly Migration[], applied: Iterable<number>): Migration[] {
  const versions = new Set(migrations.map((m) => m.version));
  if (versions.size !== migrations.length) throw new Error("two migrations share a version");
  const done = new Set(applied);
  return migrations.filter((m) => !done.has(m.version)).sort((a, b) => a.version - b.version);
}
