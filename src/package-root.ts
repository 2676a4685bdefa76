// The folder nerkit is installed in, found from this module's location, for the files that ship
// with the package (examples, package.json).

import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function find(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name === "nerkit") return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error("nerkit's package.json was not found above " + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

export const packageRoot = find();

export const packageVersion = (JSON.parse(readFileSync(join(packageRoot, "package.json"), "utf8")) as { version: string }).version;
