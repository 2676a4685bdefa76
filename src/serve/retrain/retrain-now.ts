// One retrain run to its end in this process, recorded like the service's (a row in the retrains
// table, so GET /v1/retrain lists it, and refused while another runs): what `nerkit retrain` does,
// given the job database and the registry, with each log line and progress step handed to the caller.
// What it leaves out: opening the database and the registry (the command does).

import { NerkitError } from "../../errors.js";
import { ModelRegistry } from "../models/registry.js";
import { JobRepository } from "../storage/repository.js";
import { RetrainRecord } from "../storage/retrains.js";
import { RetrainSettings } from "./run.js";
import { RetrainService } from "./service.js";

export interface RetrainNowOptions {
  repository: JobRepository;
  registry: ModelRegistry;
  settings: RetrainSettings;
  onLog?: (line: string) => void;
  onProgress?: (fraction: number, phase: string) => void;
  /** Aborting stops the trainer (after its current step); the retrain is recorded failed. */
  signal?: AbortSignal;
}

/** Runs a retrain and returns its record once it ended (done or failed); refuses while one runs. */
export async function retrainNow(options: RetrainNowOptions): Promise<RetrainRecord> {
  const service = new RetrainService({
    repository: async () => options.repository,
    registry: options.registry,
    settings: options.settings,
    failLeftRunning: false,
    onLog: (_id, line) => options.onLog?.(line),
    onProgress: (_id, fraction, phase) => options.onProgress?.(fraction, phase),
  });
  const outcome = await service.start();
  if ("running" in outcome) throw new NerkitError("E_USAGE", `retrain ${outcome.running.id} is running (${outcome.running.phase}): one at a time`);
  if ("noReviews" in outcome) throw new NerkitError("E_USAGE", outcome.noReviews);
  const stop = () => void service.close();
  options.signal?.addEventListener("abort", stop, { once: true });
  try {
    await service.idle();
  } finally {
    options.signal?.removeEventListener("abort", stop);
  }
  return (await service.get(outcome.started.id))!;
}
