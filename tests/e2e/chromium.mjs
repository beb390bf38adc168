// Launch Debian's Chromium headless through playwright-core, for the end-to-end tests.
//
// Playwright's own browser downloads are never used: the executable is /usr/bin/chromium
// (scripts/setup --test installs it), with a fresh profile that is removed on close.
// Pages may reach 127.0.0.1 only; anything else (the Playground's web fonts and
// animations on a Microsoft CDN) is refused at once rather than left to time out offline.

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

export const EXECUTABLE = "/usr/bin/chromium";
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Return a browser context of `width` x `height` CSS pixels; close it with `.close()`. */
export async function launch({ width, height, locale = "ja-JP" }) {
  if (!fs.existsSync(EXECUTABLE)) {
    throw new Error(`${EXECUTABLE} is missing; run scripts/setup --test (as root).`);
  }
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "bcp-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: EXECUTABLE,
    headless: true,
    args: FLAGS,
    viewport: { width, height },
    deviceScaleFactor: 2,
    locale,
    timezoneId: "Asia/Tokyo",
  });
  await context.route(/^https?:\/\/(?!127\.0\.0\.1[:/])/, (route) => route.abort());
  const close = context.close.bind(context);
  context.close = async () => {
    await close();
    fs.rmSync(profile, { recursive: true, force: true });
  };
  return context;
}
