#!/usr/bin/env node
// Render Adaptive Cards with the official JavaScript renderer (npm adaptivecards) in
// headless Chromium, 390 CSS pixels wide (a phone), with the Teams host config.
//
// Usage: node tests/e2e/render_cards.mjs --cards CARDS.json [--screenshots DIR]
//   CARDS.json  an object of cards by name ("report/first/ja": {...})
//   DIR         where to save one PNG of each rendered card (names with "/" become "--")
//
// Prints one JSON object: for each name, the problems found (empty when none):
//   parse events (unknown elements or actions, invalid values, properties newer than
//   card version 1.5), validation events (required inputs without a label or an error
//   message, duplicate ids, too many actions), a card that renders nothing, and a card
//   wider than the screen.

import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { parseArgs } from "node:util";

import { launch } from "./chromium.mjs";
import hostConfig from "./teams-host-config.mjs";

const WIDTH = 390;
const require = createRequire(import.meta.url);
const RENDERER = require.resolve("adaptivecards/dist/adaptivecards.min.js");

const { values: options } = parseArgs({
  options: { cards: { type: "string" }, screenshots: { type: "string" } },
});
if (!options.cards) {
  console.error("usage: node tests/e2e/render_cards.mjs --cards CARDS.json [--screenshots DIR]");
  process.exit(2);
}
const cards = JSON.parse(fs.readFileSync(options.cards, "utf8"));

// Runs in the page: parse, validate and render one card into #host.
function renderInPage({ card, hostConfig, width }) {
  const AC = window.AdaptiveCards;
  const eventName = (event) => AC.ValidationEvent[event.event] ?? String(event.event);
  const problems = [];

  const adaptiveCard = new AC.AdaptiveCard();
  adaptiveCard.hostConfig = new AC.HostConfig(hostConfig);
  // Teams renders card version 1.5 at most: anything newer is a parse event here.
  const context = new AC.SerializationContext(AC.Versions.v1_5);
  adaptiveCard.parse(card, context);
  for (let index = 0; index < context.eventCount; index++) {
    const event = context.getEventAt(index);
    problems.push(`parse ${eventName(event)}: ${event.message}`);
  }
  for (const event of adaptiveCard.validateProperties().validationEvents) {
    const id = event.source?.id ? ` (${event.source.id})` : "";
    problems.push(`validation ${eventName(event)}${id}: ${event.message}`);
  }

  const host = document.getElementById("host");
  host.replaceChildren();
  const element = adaptiveCard.render();
  if (!element) {
    problems.push("render: the renderer produced nothing");
    return problems;
  }
  host.appendChild(element);
  if (element.scrollWidth > width) {
    problems.push(`render: ${element.scrollWidth} px wide on a ${width} px screen`);
  }
  return problems;
}

const browser = await launch({ width: WIDTH, height: 800 });
const results = {};
try {
  const page = await browser.newPage();
  await page.setContent(
    `<!doctype html><meta charset="utf-8">` +
      `<body style="margin:0"><div id="host" style="width:${WIDTH}px"></div></body>`,
  );
  await page.addScriptTag({ path: RENDERER });
  if (options.screenshots) fs.mkdirSync(options.screenshots, { recursive: true });

  for (const [name, card] of Object.entries(cards)) {
    results[name] = await page.evaluate(renderInPage, { card, hostConfig, width: WIDTH });
    if (options.screenshots) {
      const file = path.join(options.screenshots, `${name.replaceAll("/", "--")}.png`);
      await page.locator("#host").screenshot({ path: file });
    }
  }
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(results, null, 1) + "\n");
