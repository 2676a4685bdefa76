// A node:test reporter that prints, after the run, every skipped test or suite with its reason and
// file, so that `npm test` says plainly what did not run (PostgreSQL, Redis or Chromium missing).
// It prints nothing else; the spec or TAP reporter beside it prints the results.

export default async function* skipSummary(source) {
  const skipped = [];
  for await (const event of source) {
    if ((event.type === "test:pass" || event.type === "test:fail") && event.data.skip !== undefined && event.data.skip !== false) {
      const reason = typeof event.data.skip === "string" ? event.data.skip : "skipped";
      skipped.push(`  ${event.data.name} (${event.data.file ?? "?"}): ${reason}`);
    }
  }
  yield skipped.length === 0 ? "\nskipped: none\n" : `\nskipped (${skipped.length}):\n${skipped.join("\n")}\n`;
}
