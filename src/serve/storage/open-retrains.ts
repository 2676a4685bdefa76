// The retrain store (retrains.ts) of an open job repository, on its own connection: SQLite's or
// PostgreSQL's, loaded only for the database in use (as open.ts loads the repositories).

import type { JobRepository } from "./repository.js";
import type { RetrainStore } from "./retrains.js";

/** The retrain store on the job repository's own connection. */
export async function retrainStore(repository: JobRepository): Promise<RetrainStore> {
  const { SqliteJobRepository } = await import("./sqlite.js");
  if (repository instanceof SqliteJobRepository) return new (await import("./sqlite-retrains.js")).SqliteRetrainStore(repository);
  const { PostgresJobRepository } = await import("./postgres.js");
  if (repository instanceof PostgresJobRepository) return new (await import("./postgres-retrains.js")).PostgresRetrainStore(repository);
  throw new Error("retrains are stored in SQLite or PostgreSQL only");
}
