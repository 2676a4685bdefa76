// Debian's Chromium for the browser tests, driven by playwright-core: where it is, how it is
// started, and the rule the browser suites share: skipped with a reason where Chromium is missing,
// but a failure under CI, which must install it (.ci/services/chromium.sh); and a page that fails
// its test on any error it shows (withErrorFreePage).

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { Browser, Page, chromium } from "playwright-core";

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

export interface PageOptions {
  viewport?: { width: number; height: number };
  /** Console errors the test expects (a 401 or 404 the page answers itself), left out of the check. */
  expectedConsoleErrors?: RegExp;
  /** Runs before the page is opened (routes, init scripts). */
  prepare?: (page: Page) => Promise<void>;
}

/** Opens `url` in a fresh context, runs fn, and asserts that the page raised no error and logged none (but the expected ones). */
export async function withErrorFreePage(browser: Browser, url: string, fn: (page: Page) => Promise<void>, options: PageOptions = {}): Promise<void> {
  const context = await browser.newContext({ viewport: options.viewport ?? { width: 1180, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("console", (message) => message.type() === "error" && !options.expectedConsoleErrors?.test(message.text()) && errors.push(message.text()));
  try {
    await options.prepare?.(page);
    await page.goto(url);
    await fn(page);
    assert.deepEqual(errors, [], "errors in the page");
  } finally {
    await context.close();
  }
}
