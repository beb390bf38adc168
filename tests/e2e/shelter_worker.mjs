#!/usr/bin/env node
// A shelter worker on a phone, in the Agents Playground's web UI, in headless Chromium.
//
// Usage: node tests/e2e/shelter_worker.mjs --playground URL --screenshots DIR
//
// Steps: open the personal chat, type 報告, choose the shelter, fill in the card, send
// it, see the confirmation, type ボード, see the numbers. Each step saves a screenshot
// (DIR/01-welcome.png ...) and prints one JSON line {"step", "screenshot", "text"}, where
// text is what the newest card says. A step that fails saves DIR/failed.png, prints
// {"failed", "error"} and exits 1.

import path from "node:path";
import { parseArgs } from "node:util";

import { launch } from "./chromium.mjs";

// An iPhone 12-15 screen, in CSS pixels.
const PHONE = { width: 390, height: 844 };
const STEP_TIMEOUT = 15_000;

const { values: options } = parseArgs({
  options: { playground: { type: "string" }, screenshots: { type: "string" } },
});
if (!options.playground || !options.screenshots) {
  console.error("usage: node tests/e2e/shelter_worker.mjs --playground URL --screenshots DIR");
  process.exit(2);
}

const browser = await launch(PHONE);
const page = await browser.newPage();
page.setDefaultTimeout(STEP_TIMEOUT);
// NOTE: once a card is on screen the first textbox on the page is the card's input;
// the Playground's message box is its Lexical editor.
const messageBox = page.locator('[role=textbox][data-lexical-editor="true"]');
const newestCard = () => page.locator(".ac-adaptiveCard").last();
let stepCount = 0;
let current = "start";

// Run one step, then show the newest card from its top, or, when the step returns a
// locator, that element at the bottom of the screen; then take the screenshot.
async function step(name, action) {
  current = name;
  const focus = await action();
  await show(focus ?? newestCard(), focus ? "end" : "start");
  stepCount += 1;
  const number = String(stepCount).padStart(2, "0");
  const screenshot = path.join(options.screenshots, `${number}-${name}.png`);
  await page.screenshot({ path: screenshot });
  const text = await newestCard().innerText().catch(() => "");
  console.log(JSON.stringify({ step: name, screenshot, text }));
}

async function type(words) {
  await messageBox.click();
  await messageBox.fill(words);
  // NOTE: at phone width the Playground's send button is off screen; Enter sends.
  await messageBox.press("Enter");
}

// NOTE: the Playground's own layout is at least 763 px wide and shows cards 446 px wide,
// so at phone width the page scrolls sideways; bring the card's left edge into view.
// (render_cards.mjs checks that every card fits 390 px.)
async function show(locator, block = "start") {
  await locator.evaluate(
    (element, block) => element.scrollIntoView({ block, inline: "start" }),
    block,
  );
}

async function waitForCardText(text) {
  await newestCard().getByText(text, { exact: false }).first().waitFor();
}

async function choose(card, label, option) {
  const box = card.getByRole("combobox", { name: label });
  await box.click();
  await box.fill(option.slice(0, 3));
  await page.getByRole("option", { name: option }).first().click();
}

try {
  await step("welcome", async () => {
    await page.goto(options.playground);
    await messageBox.waitFor();
    await page.getByTitle("Hide log panel").click();
    await waitForCardText("BCPボードを利用できます");
  });

  await step("site-picker", async () => {
    await type("報告");
    await waitForCardText("報告する施設を選んでください");
  });

  await step("form", async () => {
    const card = newestCard();
    await choose(card, /施設/, "中央小学校");
    await card.getByRole("button", { name: "報告フォームを開く" }).click();
    await waitForCardText("この施設の報告はまだありません");
  });

  await step("filled", async () => {
    const card = newestCard();
    await card.getByRole("spinbutton", { name: /避難者数/ }).fill("85");
    await card.getByRole("spinbutton", { name: /世帯数/ }).fill("30");
    await card.getByRole("spinbutton", { name: /要配慮者数/ }).fill("6");
    await choose(card, /飲料水/, "不足");
    await card.getByRole("textbox", { name: /緊急に必要なもの/ }).fill("飲料水 200本");
    return card.getByRole("button", { name: "報告を送信" });
  });

  await step("confirmation", async () => {
    await newestCard().getByRole("button", { name: "報告を送信" }).click();
    await waitForCardText("報告を受け付けました");
  });

  await step("board", async () => {
    await type("ボード");
    await waitForCardText("BCPボード");
  });
} catch (error) {
  await page.screenshot({ path: path.join(options.screenshots, "failed.png") }).catch(() => {});
  console.log(JSON.stringify({ failed: current, error: String(error.message ?? error) }));
  process.exitCode = 1;
} finally {
  await browser.close();
}
