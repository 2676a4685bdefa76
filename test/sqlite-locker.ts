// Another process holding a SQLite database's write lock, for the tests of the service under a
// locked database: a child node process opens the file with better-sqlite3 and runs BEGIN
// EXCLUSIVE; it says "locked" once it holds the lock, and rolls back and exits when told to (or
// when the test process dies and closes its stdin). What it leaves out: read-only files (root, who
// runs these tests in CI, writes a 0444 file anyway; SQLITE_READONLY takes the same path as
// SQLITE_BUSY in sqlite.ts's translate).

import { spawn } from "node:child_process";
import { repoRoot } from "./helpers.js";

export interface SqliteLock {
  /** The locking process's id. */
  pid: number;
  /** Rolls back, and resolves once the locking process has exited. */
  release(): Promise<void>;
}

const LOCKER = `
import Database from "better-sqlite3";
const db = new Database(process.argv[1], { timeout: 5000 });
db.exec("BEGIN EXCLUSIVE");
process.stdout.write("locked\\n");
process.stdin.resume();
process.stdin.on("end", () => { db.exec("ROLLBACK"); db.close(); process.exit(0); });
`;

/** Locks file (an existing SQLite database) from another process; resolves once the lock is held. */
export async function lockSqlite(file: string): Promise<SqliteLock> {
  const child = spawn(process.execPath, ["--input-type=module", "-e", LOCKER, file], { cwd: repoRoot, stdio: ["pipe", "pipe", "pipe"] });
  let output = "";
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (chunk) => {
      output += chunk;
      if (output.includes("locked")) resolve();
    });
    child.stderr.on("data", (chunk) => (output += chunk));
    void exited.then((code) => reject(new Error(`the locking process exited (${code}) before locking ${file}:\n${output}`)));
  });
  return {
    pid: child.pid!,
    async release() {
      child.stdin.end();
      const code = await exited;
      if (code !== 0) throw new Error(`the locking process exited with ${code}:\n${output}`);
    },
  };
}
