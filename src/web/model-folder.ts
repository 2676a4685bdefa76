// A model folder as the browser reaches it: the files under a base URL (fetched), or the files a
// person picked (an <input type="file" webkitdirectory> list, or single files). Each file is read
// once, by its path inside the folder ("onnx/model.onnx"), and named in errors as a reader would
// find it (its URL, or the path the picker gave). Left out: caching (the browser's HTTP cache
// serves a second load) and progress reporting.

import { NerkitError } from "../errors.js";

/** A file a person picked (the browser's File, as much of it as nerkit reads). */
export interface PickedFile {
  readonly name: string;
  /** "folder/onnx/model.onnx" from a directory picker; "" for a file picked alone. */
  readonly webkitRelativePath?: string;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** Where a model folder lies: a base URL (absolute, or relative to the page) or picked files (a FileList). */
export type ModelSource = string | URL | Iterable<PickedFile> | ArrayLike<PickedFile>;

export interface ModelFolder {
  /** The folder, for errors about the folder as a whole. */
  name: string;
  /** Where a file of the folder is, for errors: its URL or picked path. */
  path(file: string): string;
  /** The file's bytes; undefined when the folder has no such file. */
  read(file: string): Promise<Uint8Array | undefined>;
}

export interface FetchLike {
  (url: string): Promise<{ ok: boolean; status: number; arrayBuffer(): Promise<ArrayBuffer> }>;
}

/** The folder a source names; `fetchFile` replaces the global fetch (tests, service workers). */
export function modelFolder(source: ModelSource, fetchFile?: FetchLike): ModelFolder {
  if (typeof source === "string" || source instanceof URL) return urlFolder(source, fetchFile ?? ((url) => globalThis.fetch(url)));
  return pickedFolder(Array.from(source as Iterable<PickedFile>));
}

function urlFolder(source: string | URL, fetchFile: FetchLike): ModelFolder {
  const base = String(source).replace(/\/*$/, "/");
  const path = (file: string): string => base + file;
  return {
    name: base,
    path,
    async read(file) {
      let response;
      try {
        response = await fetchFile(path(file));
      } catch (error) {
        throw new NerkitError("E_IO", `could not fetch the file: ${(error as Error).message}`, { file: path(file) });
      }
      // A static server answers 404 for a file that is not there (some answer 403 for a folder).
      if (response.status === 404 || response.status === 403) return undefined;
      if (!response.ok) throw new NerkitError("E_IO", `the server answered ${response.status}`, { file: path(file) });
      return new Uint8Array(await response.arrayBuffer());
    },
  };
}

/**
 * Picked files by their path inside the folder: a directory picker gives "folder/onnx/model.onnx"
 * (the folder's own name first, dropped here); a file picked alone is known by its name, so a flat
 * pick of model.onnx, tokenizer.json and config.json also loads.
 */
function pickedFolder(files: PickedFile[]): ModelFolder {
  const byPath = new Map<string, PickedFile>();
  const byName = new Map<string, PickedFile[]>();
  for (const file of files) {
    const relative = file.webkitRelativePath ? file.webkitRelativePath.split("/").slice(1).join("/") : file.name;
    byPath.set(relative, file);
    byName.set(file.name, [...(byName.get(file.name) ?? []), file]);
  }
  const root = files.find((f) => f.webkitRelativePath)?.webkitRelativePath?.split("/")[0];
  const find = (path: string): PickedFile | undefined => {
    const exact = byPath.get(path);
    if (exact) return exact;
    const named = byName.get(path.split("/").pop() as string);
    return named?.length === 1 ? named[0] : undefined;
  };
  return {
    name: root ?? "the picked files",
    path: (file) => find(file)?.webkitRelativePath || (root ? `${root}/${file}` : file),
    async read(file) {
      const found = find(file);
      return found && new Uint8Array(await found.arrayBuffer());
    },
  };
}
