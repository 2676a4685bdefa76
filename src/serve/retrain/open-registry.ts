// Where `nerkit retrain` (and `nerkit serve`'s retrain routes) get the model registry: the one
// `serve --models DIR` keeps, over the job database's version rows. One function, so that the
// registry is opened the same way wherever a retrain runs.
// What it leaves out: the registry itself (serve/models/, its own branch of issue 12).

import { NerkitError } from "../../errors.js";
import { ModelRegistry } from "../models/registry.js";

export interface RegistryLocation {
  /** The job database (--db): SQLite file or postgres:// URL. */
  db: string;
  /** The registry's folder (--models). */
  models: string;
}

/**
 * Opens the model registry at location.
 * TODO(lead, issue 12 §1): return the registry of branch `registry` here (opened on --db and
 * --models as `nerkit serve --models` opens it); it was written at the same time as this function,
 * so this branch could not call it. Until then `nerkit retrain` stops here with this message.
 */
export async function openModelRegistry(location: RegistryLocation): Promise<ModelRegistry> {
  throw new NerkitError("E_USAGE", `the model registry (--models ${location.models}) cannot be opened by this build yet: nerkit retrain needs the registry of issue 12 §1`);
}
