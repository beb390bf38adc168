#!/usr/bin/env node
// Start the Microsoft 365 Agents Playground on 127.0.0.1, pointed at a bot.
//
// Usage: node scripts/playground.mjs --bot URL [--port N]
//   --bot   the bot's messaging endpoint, e.g. http://127.0.0.1:3978/api/messages
//   --port  the port to serve on (default 56150); a busy port is replaced by a free one
//
// The Playground reads .m365agentsplayground.yml from the working directory and writes
// its log to devTools/ there. Once it answers /_debug/ping, this prints one line:
//   Playground ready at http://127.0.0.1:N
// and keeps running until stopped. It exits 1 with the Playground's own reason when the
// Playground cannot start (an invalid config file, for one).
//
// NOTE: the Playground (0.2.28) has no option for its listening address and listens on
// every interface, and it answers anyone without authentication. Every server it starts
// is made to listen on 127.0.0.1 here instead, by defaulting the host of net.Server.listen.

import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const HOST = "127.0.0.1";
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const CLI = path.join(ROOT, "node_modules", "@microsoft", "m365agentsplayground", "dist");
const LOG = path.join("devTools", "m365agentsplayground.log");

const { values: options } = parseArgs({
  options: { bot: { type: "string" }, port: { type: "string", default: "56150" } },
});
if (!options.bot) {
  console.error("usage: node scripts/playground.mjs --bot URL [--port N]");
  process.exit(2);
}
if (!fs.existsSync(CLI)) {
  console.error(`The Agents Playground is not installed (${CLI}); run scripts/setup.`);
  process.exit(1);
}

function listenOnLoopback() {
  const listen = net.Server.prototype.listen;
  net.Server.prototype.listen = function (...args) {
    if (typeof args[0] === "object" && args[0] !== null && !args[0].host && !args[0].path) {
      args[0] = { ...args[0], host: HOST };
    } else if (typeof args[0] === "number" || /^\d+$/.test(String(args[0]))) {
      if (typeof args[1] !== "string") args.splice(1, 0, HOST);
    }
    return listen.apply(this, args);
  };
}

// NOTE: once started, the Playground sends console.log and console.error to its log
// file; what this script says goes straight to the process's streams.
function say(line) {
  process.stderr.write(`${line}\n`);
}

function portIsFree(port) {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, HOST, () => probe.close(() => resolve(true)));
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", reject);
    probe.listen(0, HOST, () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

function ping(port) {
  return new Promise((resolve) => {
    const request = http.get({ host: HOST, port, path: "/_debug/ping", timeout: 1000 }, (answer) => {
      let body = "";
      answer.on("data", (chunk) => (body += chunk));
      answer.on("end", () => resolve(body === "pong"));
    });
    request.on("timeout", () => request.destroy());
    request.on("error", () => resolve(false));
  });
}

async function waitForPing(port) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (await ping(port)) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

function explainExit(code) {
  if (code === 0 || !fs.existsSync(LOG)) return;
  // NOTE: on a bad config file the Playground prints its banner and exits 1; the reason
  // is only in its log file.
  const lines = fs.readFileSync(LOG, "utf8").trim().split("\n").slice(-8);
  say(`The Agents Playground stopped (exit ${code}). The end of ${path.resolve(LOG)}:`);
  for (const line of lines) say(`  ${line.slice(0, 400)}`);
}

let port = Number(options.port);
if (!(await portIsFree(port))) {
  const busy = port;
  port = await freePort();
  say(`Port ${busy} is in use; the Playground uses ${port} instead.`);
}

listenOnLoopback();
process.env.TEAMSAPPTESTER_BROWSER = "none";
// The mock tenant is a Japanese city: its clients report Japan's time zone.
process.env.TZ ??= "Asia/Tokyo";
process.on("exit", explainExit);
process.argv = [
  process.argv[0],
  path.join(CLI, "..", "cli.js"),
  "--app-endpoint", options.bot,
  "--channel-id", "msteams",
  "--port", String(port),
  "--service-url", `http://${HOST}:${port}/_connector`,
  "--disable-telemetry",
];

const require = createRequire(import.meta.url);
require(CLI).start();

if (await waitForPing(port)) {
  process.stdout.write(`Playground ready at http://${HOST}:${port}\n`);
} else {
  say(`The Playground did not answer on port ${port}.`);
  process.exit(1);
}
