// Picks the job repository from the --db value: a postgres:// or postgresql:// URL opens
// PostgreSQL (postgres.ts), anything else is a SQLite file (":memory:" included).

import { JobRepository } from "./repository.js";
import { SqliteJobRepository } from "./sqlite.js";

export interface OpenRepositoryOptions {
  /** How long a write waits for a lock before failing with StorageUnavailableError. */
  busyTimeoutMs?: number;
  /** PostgreSQL only: how long a statement may take, or its answer be awaited (postgres.ts). */
  queryTimeoutMs?: number;
  /** PostgreSQL only: how long opening a connection may take. */
  connectTimeoutMs?: number;
}

export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

/** Opens (creating and migrating if need be) the repository at location; a SQLite file another
 * process holds locked is waited for, within busyTimeoutMs. */
export async function openRepository(location: string, options: OpenRepositoryOptions = {}): Promise<JobRepository> {
  if (isPostgresUrl(location)) {
    const { PostgresJobRepository } = await import("./postgres.js");
    return PostgresJobRepository.open(location, options);
  }
  return SqliteJobRepository.openWhenFree(location, options);
}
