// A nerkit process that must not outlive the process that started it (the trainer of a retrain,
// serve/retrain/trainer-process.ts): started with an IPC channel and NERKIT_EXIT_WITH_PARENT=1, it
// exits as soon as the channel closes, which happens when its parent dies however it dies (SIGKILL
// included, which the parent cannot handle). The exit is immediate, as SIGKILL of the trainer would
// be: the half-written output is the parent's to clean (a dead server's retrain is marked failed at
// the next start). The channel is unref'd, so that it never keeps a finished command running.
// What it leaves out: any message over the channel (none is sent).

/** Exit code of a process whose parent went away (128 + SIGHUP's number, as a shell's hang-up). */
const PARENT_GONE = 129;

/** Watches the parent when asked to (the environment variable and a channel); otherwise nothing. */
export function exitWithParent(env: NodeJS.ProcessEnv = process.env): void {
  if (env.NERKIT_EXIT_WITH_PARENT !== "1" || !process.channel) return;
  process.on("disconnect", () => process.exit(PARENT_GONE));
  if (!process.connected) process.exit(PARENT_GONE);
  // Adding the listener refs the channel; unref it again, or a finished trainer would wait for its parent.
  process.channel.unref();
}
