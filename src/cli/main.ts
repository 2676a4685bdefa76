// The nerkit command: parses arguments with commander, runs a command, and turns errors into a
// message and an exit code (0 success, 2 bad input or usage, 1 a bug in nerkit, 130 stopped by
// Ctrl-C). A user never sees a stack trace for their own mistake; NERKIT_DEBUG=1 shows one for ours.

import { Readable } from "node:stream";
import { Command, CommanderError, Help } from "commander";
import { NerkitError } from "../errors.js";
import { packageVersion } from "../package-root.js";
import { calibrateCommand } from "./commands/calibrate.js";
import { convertCommand } from "./commands/convert.js";
import { evaluateCommand } from "./commands/evaluate.js";
import { exportCommand } from "./commands/export.js";
import { predictCommand } from "./commands/predict.js";
import { trainCommand } from "./commands/train.js";
import { distillCommand } from "./commands/distill.js";
import { quickstartCommand } from "./commands/quickstart.js";
import { serveCommand } from "./commands/serve.js";
import { profileCommand } from "./commands/profile.js";
import { retrainCommand } from "./commands/retrain.js";
import { statsCommand } from "./commands/stats.js";
import { tokenizerCommand } from "./commands/tokenizer.js";
import { workerCommand } from "./commands/worker.js";
import { CommandIO, endQuietlyWhenStdoutCloses, processIO } from "./io.js";
import { exitWithParent } from "./exit-with-parent.js";

/** Every command (and sub-command) with its options, appended to `nerkit --help`. */
function commandsWithOptions(program: Command): string {
  const help = new Help();
  const lines = ["", "Commands and their options:"];
  const describe = (command: Command, prefix: string) => {
    if (command.commands.length > 0) {
      for (const sub of command.commands) describe(sub, `${prefix} ${command.name()}`);
      return;
    }
    lines.push("", `  ${prefix} ${help.subcommandTerm(command)}`);
    const options = help.visibleOptions(command);
    const width = Math.max(...options.map((o) => help.optionTerm(o).length));
    for (const option of options) lines.push(`      ${help.optionTerm(option).padEnd(width)}  ${help.optionDescription(option)}`);
  };
  for (const command of program.commands) describe(command, "nerkit");
  return lines.join("\n") + "\n";
}

export function buildProgram(io: CommandIO): Command {
  const program = new Command("nerkit")
    .description("Named-entity recognition with BERT-family transformers: train, predict, serve, evaluate (identical to seqeval), convert")
    .version(packageVersion)
    .showHelpAfterError("(run nerkit --help for every command and option)")
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .exitOverride();
  const quickstart = (io: CommandIO) => quickstartCommand(io, (argv, input) => main(argv, input === undefined ? io : { ...io, stdin: Readable.from([input]) }));
  for (const make of [quickstart, trainCommand, distillCommand, predictCommand, exportCommand, convertCommand, statsCommand, evaluateCommand, calibrateCommand, tokenizerCommand, serveCommand, workerCommand, profileCommand, retrainCommand]) {
    program.addCommand(make(io).exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr }));
  }
  program.addHelpText("after", () => commandsWithOptions(program));
  return program;
}

export async function main(argv: readonly string[], io: CommandIO = processIO): Promise<number> {
  if (io === processIO) {
    endQuietlyWhenStdoutCloses();
    exitWithParent();
  }
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: "user" });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.code === "commander.helpDisplayed" || error.code === "commander.version" || error.code === "commander.help" ? 0 : 2;
    }
    if (error instanceof NerkitError && error.code === "E_INTERRUPTED") {
      io.stderr(`nerkit: ${error.message}\n`);
      return 130; // 128 + SIGINT, what a shell reports for a command stopped by Ctrl-C
    }
    if (error instanceof NerkitError) {
      io.stderr(`nerkit: error: ${error.describe()}\n`);
      return 2;
    }
    io.stderr(`nerkit: internal error: ${(error as Error)?.message ?? String(error)}\n`);
    if (process.env.NERKIT_DEBUG) io.stderr(`${(error as Error)?.stack ?? ""}\n`);
    else io.stderr("(this is a bug in nerkit; NERKIT_DEBUG=1 shows the stack)\n");
    return 1;
  }
}
