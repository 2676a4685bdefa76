// nerkit profile: writes the model folder's reference-profile.json (the drift statistics that
// `nerkit serve` compares its recent documents with) from a user's own representative texts,
// read exactly as the service reads them (serve/drift/profile-writer.ts). `nerkit train` writes one
// on its --dev data; this replaces it with texts closer to what production will send.

import { Command } from "commander";
import { readProfileTexts } from "../../data/profile-texts.js";
import { writeReferenceProfile } from "../../serve/drift/profile-writer.js";
import { resolveModel } from "../../model/hub/resolve-model.js";
import { CommandIO } from "../io.js";
import { integer } from "../options.js";
import { openPipeline } from "./predict.js";

interface ProfileOptions {
  model: string;
  data: string;
  threads?: number;
}

export function profileCommand(io: CommandIO): Command {
  return new Command("profile")
    .description("write the model folder's reference-profile.json (drift monitoring in nerkit serve) from representative texts")
    .requiredOption("--model <dir>", "model folder (the profile is written into it)")
    .requiredOption("--data <file>", "texts: .txt (one document per line), .jsonl ({\"text\"} per line), or labelled data (CoNLL: -DOCSTART- documents, else sentences)")
    .option("--threads <n>", "CPU threads for ONNX Runtime", integer("--threads"))
    .action(async (options: ProfileOptions) => {
      const data = readProfileTexts(options.data);
      const dir = await resolveModel(options.model, {});
      const pipeline = await openPipeline(dir, { threads: options.threads });
      try {
        const { file, counts } = await writeReferenceProfile(dir, pipeline, data.texts, { madeBy: "nerkit profile", path: options.data, sha256: data.sha256, unit: data.unit });
        io.stdout(`reference profile: ${file} (${counts.documents} ${data.unit}, ${counts.entities} entities)\n`);
      } finally {
        await pipeline.close();
      }
    });
}
