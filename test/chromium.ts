// Debian's Chromium for the browser tests, driven by playwright-core: where it is, how it is
// started, and the rule the browser suites share: skipped with a reason where Chromium is missing,
// but a failure under CI, which must install it (.ci/services/chromium.sh).

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { Browser, chromium } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const missing = !existsSync(CHROMIUM);

/** describe()'s skip option for a browser suite: a reason outside CI when Chromium is missing, else false. */
export const skipWithoutChromium = missing && !process.env.CI ? `${CHROMIUM} is missing (.ci/services/chromium.sh installs it): browser tests skipped` : false;

/** Starts Chromium headless; under CI a missing Chromium fails the suite instead of skipping it. */
export async function launchChromium(): Promise<Browser> {
  assert.ok(!missing, `${CHROMIUM} is missing: CI must install it (.ci/services/chromium.sh)`);
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS });
}
