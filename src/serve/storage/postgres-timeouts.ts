// The defaults of the bounds on PostgreSQL waits (postgres.ts applies them), in a file of their
// own so that the settings (config.ts, the CLI) can name them without loading node-postgres.

/** How long one statement may run (statement_timeout) or go unanswered before it fails as
 * unavailable. Generous: a job's statements are bounded (5,000 documents, one chunk's results, a
 * page), so a minute means a database that does not answer, not one that is slow. */
export const DEFAULT_QUERY_TIMEOUT_MS = 60_000;
/** How long opening a connection may take before the database counts as unavailable. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
