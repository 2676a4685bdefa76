// Whether the --db can be used, asked before the service listens: a PostgreSQL URL is connected to
// and migrated; a SQLite file that exists is opened and migrated; one that does not exist yet (it is
// created on the first job, so a server that never gets one leaves no file) needs a folder it can be
// created in. Every failure is a StorageUnavailableError whose message says why, never the password.
// What it leaves out: keeping the connection (the service opens its own) and retrying (the caller's).

import { accessSync, constants, existsSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { OpenRepositoryOptions, isPostgresUrl, openRepository } from "./open.js";
import { StorageUnavailableError } from "./repository.js";

/** Why a SQLite file that does not exist yet could not be created at path, or undefined if it could. */
export function sqliteFolderProblem(path: string): string | undefined {
  const folder = dirname(resolve(path));
  let isFolder: boolean;
  try {
    isFolder = statSync(folder).isDirectory();
  } catch (error) {
    return `the folder ${folder} does not exist or cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
  }
  if (!isFolder) return `${folder} is not a folder`;
  try {
    accessSync(folder, constants.W_OK | constants.X_OK);
  } catch (error) {
    return `the folder ${folder} is not writable (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
  }
  return undefined;
}

/** Resolves if the job database at location can be used now; else StorageUnavailableError saying why. */
export async function checkJobDatabase(location: string, options: OpenRepositoryOptions = {}): Promise<void> {
  if (location === ":memory:") return;
  if (!isPostgresUrl(location) && !existsSync(location)) {
    const problem = sqliteFolderProblem(location);
    if (problem) throw new StorageUnavailableError(`cannot create the job database: ${problem}`);
    return;
  }
  let repository;
  try {
    repository = await openRepository(location, options);
  } catch (error) {
    if (error instanceof StorageUnavailableError) throw error;
    // A file that is not a database, a schema newer than this nerkit: the same start-up failure.
    throw new StorageUnavailableError(`cannot open the job database: ${(error as Error).message}`, { cause: error });
  }
  await repository.close();
}
