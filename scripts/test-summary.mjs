// A node:test reporter that ends `npm test` with every skipped suite or test, its reason and file
// (so a missing PostgreSQL, Redis or Chromium is plain to see), then one closing line
// "tests: N passed, N failed, N skipped" that tools reading a run's last lines understand. Passed
// and failed count tests as node's own summary does (suites are not tests); skipped counts each
// skipped test and each skipped suite once (node leaves a skipped suite's tests uncounted).
// It prints nothing else; the spec or TAP reporter beside it prints the results.

export default async function* testSummary(source) {
  const skipped = [];
  let passed = 0;
  let failed = 0;
  for await (const event of source) {
    if (event.type !== "test:pass" && event.type !== "test:fail") continue;
    const { skip, todo, details, name, file } = event.data;
    if (skip !== undefined && skip !== false) {
      skipped.push(`  ${name} (${file ?? "?"}): ${typeof skip === "string" ? skip : "skipped"}`);
    } else if (details?.type !== "suite" && (todo === undefined || todo === false)) {
      if (event.type === "test:pass") passed++;
      else failed++;
    }
  }
  const list = skipped.length === 0 ? "\nskipped: none\n" : `\nskipped (${skipped.length}):\n${skipped.join("\n")}\n`;
  yield `${list}tests: ${passed} passed, ${failed} failed, ${skipped.length} skipped\n`;
}
