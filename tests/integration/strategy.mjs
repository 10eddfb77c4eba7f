// Runs the dashboard strategy of www/ridebalance.js outside a browser: reads
// {module, hass} as JSON on stdin, prints the generated dashboard as JSON.
// The module only needs the custom-element registry and window to load.
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const input = JSON.parse(readFileSync(0, "utf8"));
const defined = new Map();
globalThis.window = globalThis;
globalThis.HTMLElement = class {};
globalThis.customElements = {
  get: (name) => defined.get(name),
  define: (name, cls) => defined.set(name, cls),
  whenDefined: async () => undefined,
};
await import(pathToFileURL(input.module).href);
// What the recorder's websocket command answered, when the test had one.
input.hass.callWS = async (message) => {
  if (message.type === "recorder/list_statistic_ids" && input.statistic_ids) {
    return input.statistic_ids;
  }
  throw new Error(`unknown command ${message.type}`);
};
// The module registers its elements once the (here: no) app has started.
await new Promise((resolve) => setTimeout(resolve, 0));
const strategy = defined.get("ll-strategy-dashboard-ridebalance");
const dashboard = await strategy.generate(input.config, input.hass);
const card = defined.get("ridebalance-balance-card");
process.stdout.write(
  JSON.stringify({
    dashboard,
    card_stub: card.getStubConfig(input.hass),
    strategies: window.customStrategies,
    cards: window.customCards,
  }),
);
