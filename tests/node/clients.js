// Drives the official Node.js `mixpanel` package against a collector.
// Usage: node clients.js <scenario> <collector url> [api secret]
// Prints one JSON line: {"errors": [...]} - every callback error, as the library reports it.
"use strict";

const Mixpanel = require("mixpanel");

const [scenario, url, secret] = process.argv.slice(2);
const target = new URL(url);

function client(options = {}) {
  return Mixpanel.init("node-token", {
    host: target.hostname,
    port: Number(target.port),
    protocol: target.protocol.replace(":", ""),
    keepAlive: false,
    ...options,
  });
}

const errors = [];
function call(fn) {
  return new Promise((resolve) =>
    fn((err) => {
      if (err) errors.push(String(err.message || err));
      resolve();
    }),
  );
}

const scenarios = {
  // Single calls are GETs with base64 in the query string; batches are form POSTs whose
  // base64 is not URL-encoded.
  async track(verbose) {
    const mp = client({ verbose });
    await call((cb) => mp.track("Signed up", { distinct_id: "node-1", plan: "pro" }, cb));
    await call((cb) =>
      mp.track_batch(
        Array.from({ length: 60 }, (_, i) => ({
          event: "Batched",
          properties: { distinct_id: `node-${i}`, text: "é~~>>>?" + "x".repeat(i), time: Date.now() },
        })),
        cb,
      ),
    );
    await call((cb) => mp.alias("node-1", "node-alias", cb));
  },
  async people() {
    const mp = client({ verbose: true });
    await call((cb) => mp.people.set("node-1", { $email: "n@example.com", plan: "free" }, cb));
    await call((cb) => mp.people.set_once("node-1", "plan", "ignored", cb));
    await call((cb) => mp.people.increment("node-1", "logins", 3, cb));
    await call((cb) => mp.people.append("node-1", "pages", "home", cb));
    await call((cb) => mp.people.union("node-1", { tags: ["a", "b"] }, cb));
    await call((cb) => mp.people.remove("node-1", { tags: "a" }, cb));
    await call((cb) => mp.people.unset("node-1", "plan", cb));
    await call((cb) => mp.groups.set("company", "acme", { name: "Acme" }, cb));
    await call((cb) => mp.groups.union("company", "acme", { regions: ["eu"] }, cb));
  },
  // Over plain http the library only sends /import with the legacy `key` (api_key=...).
  async import_key() {
    const mp = client({ key: secret || "node-key" });
    const weekAgo = Date.now() - 7 * 86400 * 1000;
    await call((cb) => mp.import("Old event", weekAgo, { distinct_id: "node-1" }, cb));
    await call((cb) =>
      mp.import_batch(
        Array.from({ length: 3 }, (_, i) => ({
          event: "Old batch",
          properties: { distinct_id: `node-${i}`, time: weekAgo },
        })),
        cb,
      ),
    );
  },
  // Over https the library sends the project secret as Basic auth.
  async import_secret() {
    const mp = client({ secret });
    await call((cb) => mp.import("Secret import", Date.now() - 86400 * 1000, { distinct_id: "node-s" }, cb));
  },
  async refused() {
    const mp = client({ verbose: false });
    await call((cb) => mp.track("Bad id", { distinct_id: "undefined" }, cb));
  },
};

scenarios[scenario](scenario === "track" ? process.argv.includes("--verbose") : undefined)
  .then(() => console.log(JSON.stringify({ errors })))
  .catch((err) => {
    console.log(JSON.stringify({ errors: [...errors, String(err)] }));
  });
