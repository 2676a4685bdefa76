// The cache layout huggingface_hub uses, so that Python and nerkit share downloads:
//   models--owner--name/blobs/<etag>                 file contents, named by git sha1 or LFS sha256
//   models--owner--name/snapshots/<commit>/<file>    symlink to ../../blobs/<etag>
//   models--owner--name/refs/<revision>              the commit a branch or tag pointed to
//   models--owner--name/.no_exist/<commit>/<file>    empty: the file is known not to exist there
// Reads and writes of that layout; no network. Where symlinks cannot be made (Windows without
// developer mode) the blob is copied, as huggingface_hub does. Left out: cache scanning and pruning.

import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { dirname, join, relative } from "node:path";
import { NerkitError } from "../../errors.js";
import { ioReason, writeFileAtomic } from "../../io/files.js";
import { repoFolderName } from "./settings.js";

export class RepoCache {
  readonly dir: string;

  constructor(cacheDir: string, readonly repoId: string) {
    this.dir = join(cacheDir, repoFolderName(repoId));
  }

  snapshotDir(commit: string): string {
    return join(this.dir, "snapshots", commit);
  }

  blobPath(etag: string): string {
    return join(this.dir, "blobs", etag);
  }

  /** The commit a branch or tag pointed to when last seen, if it is cached. */
  readRef(revision: string): string | undefined {
    const path = join(this.dir, "refs", revision);
    if (!existsSync(path)) return undefined;
    const commit = readFileSync(path, "utf8").trim();
    return /^[0-9a-f]{40}$/.test(commit) ? commit : undefined;
  }

  /** Records the commit of a branch or tag (a commit hash needs no ref). */
  writeRef(revision: string, commit: string): void {
    if (revision === commit) return;
    const path = join(this.dir, "refs", revision);
    if (existsSync(path) && readFileSync(path, "utf8") === commit) return;
    mkdirSync(dirname(path), { recursive: true });
    writeFileAtomic(path, commit);
  }

  /** True when the snapshot has the file (a symlink to a blob that exists, or a copy). */
  has(commit: string, file: string): boolean {
    return existsSync(join(this.snapshotDir(commit), file));
  }

  isMarkedMissing(commit: string, file: string): boolean {
    return existsSync(join(this.dir, ".no_exist", commit, file));
  }

  markMissing(commit: string, file: string): void {
    const path = join(this.dir, ".no_exist", commit, file);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, "");
  }

  /** Points snapshots/<commit>/<file> at blobs/<etag>, replacing whatever was there atomically. */
  link(commit: string, file: string, etag: string): void {
    const pointer = join(this.snapshotDir(commit), file);
    const blob = this.blobPath(etag);
    mkdirSync(dirname(pointer), { recursive: true });
    const temp = `${pointer}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    // Errors name the snapshot file, never the temporary name the user did not choose.
    const failed = (error: unknown) => new NerkitError("E_IO", `cannot link the cached file: ${ioReason(error)}`, { file: pointer });
    try {
      symlinkSync(relative(dirname(pointer), blob), temp);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EINVAL") throw failed(error);
      try {
        copyFileSync(blob, temp);
      } catch (copyError) {
        throw failed(copyError);
      }
    }
    try {
      renameSync(temp, pointer);
    } catch (error) {
      unlinkSync(temp);
      throw failed(error);
    }
  }
}
