// RideBalance in the Home Assistant frontend: a dashboard strategy and a card.
//
// Served by the integration itself (frontend.py) and loaded by every frontend as
// an extra module; plain JavaScript, nothing to build. A dashboard set to
//   strategy:
//     type: custom:ridebalance
// builds the ride layout for each RideBalance rider it finds in the entity
// registry, so no entity id is ever typed. Everything is drawn with Home
// Assistant's own cards plus one of ours, and only with the theme's CSS
// variables, so light and dark themes both work.

const DOMAIN = "ridebalance";
const STRATEGY = "ridebalance";
const BALANCE_CARD = "ridebalance-balance-card";

// The rider's entities by "<domain>.<translation key>". Power is the one sensor
// named by its device class instead of a translation key.
const rideEntities = (hass) => {
  const riders = new Map();
  for (const entry of Object.values(hass.entities || {})) {
    if (entry.platform !== DOMAIN || !entry.device_id) continue;
    const domain = entry.entity_id.split(".")[0];
    let key = entry.translation_key;
    if (!key && domain === "sensor") {
      const state = hass.states[entry.entity_id];
      if (state && state.attributes.device_class === "power") key = "power";
    }
    if (!key) continue;
    if (!riders.has(entry.device_id)) riders.set(entry.device_id, {});
    riders.get(entry.device_id)[`${domain}.${key}`] = entry.entity_id;
  }
  // Only the rider's own device carries the balance; paired sensors do not.
  const found = [];
  for (const [deviceId, entities] of riders) {
    const anchor = entities["sensor.left_balance"];
    if (!anchor) continue;
    const device = (hass.devices || {})[deviceId] || {};
    found.push({
      deviceId,
      name: device.name_by_user || device.name || "Rider",
      slug: anchor.split(".")[1].replace(/_left_balance$/, ""),
      entities,
    });
  }
  return found.sort((a, b) => a.name.localeCompare(b.name));
};

const sessionsMarkdown = (entityId) => `{% set sessions = state_attr('${entityId}', 'sessions') or [] -%}
{% if sessions -%}
| Start | Where | Minutes | Avg power | Left | Episodes |
|:--|:--|--:|--:|--:|--:|
{% for s in sessions -%}
{% set ts = as_timestamp(s.start, none) -%}
| {{ ts | timestamp_custom('%d %b %H:%M') if ts is not none else s.start }} | {{ (s.context or '') | capitalize }} | {{ s.duration_min }} | {{ (s.avg_power_w ~ ' W') if s.avg_power_w is not none else '-' }} | {{ (s.balance_left_pct ~ ' %') if s.balance_left_pct is not none else '-' }} | {{ s.episodes }} |
{% endfor %}

*Left*: the left leg's share of power. *Episodes*: stretches flagged as asymmetric against your own baseline at the same effort.
{%- else -%}
No finished sessions yet. A session starts when you start pedalling (or with **Start session**) and ends after a few minutes without pedalling.
{%- endif %}`;

const bandsMarkdown = (entityId) => `{% set e = '${entityId}' -%}
{% set bands = state_attr(e, 'bands') or [] -%}
{% if bands -%}
{% set mean = states(e) | float(0) -%}
{% if mean >= 0.05 -%}
Outdoors you ride on average **{{ '%.1f' | format(mean) }} points more to the left** than on the trainer.
{%- elif mean <= -0.05 -%}
Outdoors you ride on average **{{ '%.1f' | format(-mean) }} points more to the right** than on the trainer.
{%- else -%}
On average your balance is **the same** outdoors and on the trainer.
{%- endif %}

| Power band | Indoor left | Outdoor left | Outdoor − indoor | |
|:--|--:|--:|--:|:--|
{% for b in bands -%}
| {{ b.band }} | {{ b.indoor_left_pct }} % | {{ b.outdoor_left_pct }} % | {{ '%+.1f' | format(b.difference_pts + 0.0) }} pts | {{ 'clear difference' if b.exceeds_noise else 'within noise' }} |
{% endfor %}
{%- else -%}
No outdoor rides yet. Import FIT files of outdoor rides (exported from Garmin Connect, Strava or intervals.icu) with *Settings → Devices & services → RideBalance → Configure → Import rides*, or the **RideBalance: Import rides** action, to compare your road balance with the trainer at the same effort.
{%- endif %}`;

const gauge = (entity, name, min, max, segments, columns = 4) => ({
  type: "gauge",
  entity,
  name,
  min,
  max,
  ...(segments ? { needle: true, segments } : {}),
  grid_options: { columns },
});

const GREEN = "#43a047";
const CALM = "#8fa8c8";
const AMBER = "#ffa600";
const RED = "#db4437";

// The ride view of one rider: the layout the repository's YAML dashboard had,
// with the rider's own entity ids filled in. Cards whose entity the rider does
// not have (e.g. no heart-rate strap) are left out rather than shown broken.
const rideSections = (rider, options) => {
  const e = rider.entities;
  const hours = Number(options.hours_to_show) || 1.5;
  const has = (...keys) => keys.every((key) => e[key]);
  const keep = (cards) => cards.filter(Boolean);
  // A heading over the cards the rider has.
  const section = (heading, icon, cards, extra = {}) =>
    keep([{ type: "heading", heading, icon, ...extra }, ...cards]);
  const tile = (key, name, columns = 6) =>
    has(key) && { type: "tile", entity: e[key], name, grid_options: { columns } };
  const row = (key, name, icon) =>
    has(key) && { entity: e[key], name, ...(icon ? { icon } : {}) };

  const riding = has("binary_sensor.riding")
    ? [{ type: "entity", entity: e["binary_sensor.riding"], show_state: true, show_icon: true }]
    : [];
  const live = section("Live", "mdi:bike-fast", [
    has("sensor.left_balance") && {
      type: `custom:${BALANCE_CARD}`,
      entity: e["sensor.left_balance"],
      ...(has("sensor.balance_vs_baseline")
        ? { baseline_entity: e["sensor.balance_vs_baseline"] }
        : {}),
      grid_options: { columns: 12 },
    },
    has("sensor.power") && gauge(e["sensor.power"], "Power", 0, 400),
    has("sensor.cadence") &&
      gauge(e["sensor.cadence"], "Cadence", 40, 120, [
        { from: 40, color: CALM },
        { from: 80, color: GREEN },
        { from: 100, color: CALM },
      ]),
    has("sensor.left_balance") &&
      gauge(e["sensor.left_balance"], "Left 10 s", 40, 60, [
        { from: 40, color: CALM },
        { from: 48, color: GREEN },
        { from: 52, color: CALM },
      ]),
    tile("sensor.left_balance_1min", "Left 1 min"),
    tile("sensor.left_balance_session", "Left this session"),
    tile("sensor.riding_time", "Riding time"),
    tile("sensor.heart_rate", "Heart rate"),
  ], { badges: riding });

  const baseline = section("Against your baseline", "mdi:scale-balance", [
    has("sensor.balance_vs_baseline") &&
      gauge(
        e["sensor.balance_vs_baseline"],
        "Balance vs your usual (+ = more left)",
        -8,
        8,
        [
          { from: -8, color: RED },
          { from: -5, color: AMBER },
          { from: -3, color: GREEN },
          { from: 3, color: AMBER },
          { from: 5, color: RED },
        ],
        12,
      ),
    tile("binary_sensor.asymmetry", "Asymmetry"),
    tile("binary_sensor.cadence_drift", "Cadence drift"),
    tile("sensor.cadence_drift", "Cadence change"),
    tile("sensor.time_since_posture_break", "Since a break"),
    tile("sensor.riding_position", "Position"),
    tile("sensor.time_standing", "Time standing"),
  ]);

  const alerts = section("Alerts", "mdi:bell-ring-outline", [
    has("event.alert") && {
      type: "logbook",
      title: "Alert log",
      target: { entity_id: e["event.alert"] },
      hours_to_show: Math.max(hours * 2, 0.05),
      grid_options: { columns: 12, rows: 9 },
    },
  ]);

  const history = (title, lines) => {
    const entities = lines
      .filter(([key]) => has(key))
      .map(([key, name]) => ({ entity: e[key], name }));
    return (
      entities.length > 0 && {
        type: "history-graph",
        title,
        hours_to_show: hours,
        entities,
        grid_options: { columns: 12 },
      }
    );
  };
  const session = section("This session", "mdi:chart-line", [
    history("Left balance", [
      ["sensor.left_balance", "10 s"],
      ["sensor.left_balance_1min", "1 min"],
      ["sensor.left_balance_session", "Session"],
    ]),
    history("Cadence and balance vs your usual", [
      ["sensor.cadence", "Cadence"],
      ["sensor.balance_vs_baseline", "Balance vs usual"],
    ]),
  ]);

  const settingsRows = keep([
    row("switch.alerts", "Alerts"),
    row("switch.posture_reminders", "Posture reminders"),
    row("number.asymmetry_threshold", "Threshold"),
    row("number.minimum_duration", "Lasting at least"),
    row("number.posture_reminder_interval", "Remind every"),
    row("number.target_cadence_low", "Cadence from"),
    row("number.target_cadence_high", "Cadence up to"),
    row("number.cooldown", "Quiet after an alert"),
    row("number.power_floor", "Balance from"),
  ]);
  const buttons = keep([
    row("button.start_session", "Start", "mdi:play"),
    row("button.stop_session", "Stop", "mdi:stop"),
    row("button.reset_baseline", "Reset baseline", "mdi:restore"),
  ]);
  if (buttons.length) settingsRows.push({ type: "buttons", entities: buttons });
  const settings = section("Ride settings", "mdi:tune-variant", [
    settingsRows.length > 0 && {
      type: "entities",
      state_color: true,
      entities: settingsRows,
      grid_options: { columns: 12 },
    },
  ]);

  const sessions = section("Sessions", "mdi:history", [
    has("sensor.last_session_balance") && {
      type: "markdown",
      title: "Recent sessions",
      content: sessionsMarkdown(e["sensor.last_session_balance"]),
      grid_options: { columns: 18 },
    },
    has("sensor.indoor_vs_outdoor") && {
      type: "markdown",
      title: "Indoor vs outdoor, per power band",
      content: bandsMarkdown(e["sensor.indoor_vs_outdoor"]),
      grid_options: { columns: 18 },
    },
  ]);

  return [
    { type: "grid", cards: live },
    { type: "grid", cards: baseline },
    { type: "grid", cards: alerts },
    { type: "grid", column_span: 2, cards: session },
    { type: "grid", cards: settings },
    { type: "grid", column_span: 3, cards: sessions },
  ];
};

// The rider's long-term statistics (statistics.py): one series per figure and
// context, ids "ridebalance:<entry id>_<indoor|outdoor>_<figure>".
const trendSeries = async (hass, rider) => {
  const device = (hass.devices || {})[rider.deviceId] || {};
  const entries = device.config_entries || [];
  if (!entries.length) return [];
  const prefix = `${DOMAIN}:${entries[0].toLowerCase()}_`;
  let found;
  try {
    found = await hass.callWS({ type: "recorder/list_statistic_ids", statistic_type: "mean" });
  } catch (_err) {
    return []; // no recorder: no trends
  }
  return found
    .filter((s) => s.statistic_id.startsWith(prefix))
    .map((s) => {
      const [context, ...rest] = s.statistic_id.slice(prefix.length).split("_");
      return { id: s.statistic_id, context, figure: rest.join("_"), name: s.name || "" };
    });
};

// Power bands in ascending order: "under_100w" first, "300w_plus" last.
const bandOrder = (figure) => {
  if (figure.includes("under_")) return -1;
  const watts = Number.parseFloat(figure.replace(/^left_share_/, ""));
  return Number.isFinite(watts) ? watts : 1e9;
};

const trendsSections = (series, options) => {
  const days = Number(options.trends_days) || 365;
  // Weekly means join up for a rider who rides most weeks; days would be dots.
  const period = options.trends_period || "week";
  const graph = (title, lines, unit) =>
    lines.length > 0 && {
      type: "statistics-graph",
      title,
      entities: lines.map((s) => ({ entity: s.id, name: s.label })),
      stat_types: ["mean"],
      chart_type: "line",
      period,
      days_to_show: days,
      ...(unit ? { unit } : {}),
      grid_options: { columns: 12 },
    };
  const pick = (test, label) =>
    series.filter(test).map((s) => ({ ...s, label: label(s) }));
  const where = (s) => (s.context === "outdoor" ? "Outdoor" : "Indoor");
  const bandLabel = (s) => s.name.split(" left share ").pop();
  const overall = pick((s) => s.figure === "left_share", where);
  const bands = (context) =>
    pick((s) => s.context === context && s.figure.startsWith("left_share_"), bandLabel).sort(
      (a, b) => bandOrder(a.figure) - bandOrder(b.figure),
    );
  const drift = pick((s) => s.figure === "drift_onset", where);
  const technique = pick(
    (s) => /^(te|ps)_(left|right)$/.test(s.figure),
    (s) => `${where(s)} ${s.name.split(` ${s.context} `).pop()}`,
  );
  const cards = [
    graph("Left share per session, indoor and outdoor", overall),
    graph("Indoor left share per power band", bands("indoor")),
    graph("Outdoor left share per power band", bands("outdoor")),
    graph("Minutes until the balance drifted", drift),
    graph("Torque effectiveness and pedal smoothness", technique),
  ].filter(Boolean);
  if (cards.length === 0) {
    cards.push({
      type: "markdown",
      content:
        "No trends yet. Every finished session and every imported ride adds a point here, at the date it was ridden.",
    });
  }
  return [
    {
      type: "grid",
      column_span: 3,
      cards: [{ type: "heading", heading: "Over the months", icon: "mdi:chart-timeline-variant" }, ...cards],
    },
  ];
};

class RideBalanceDashboardStrategy extends HTMLElement {
  static async generate(config, hass) {
    const riders = rideEntities(hass);
    if (riders.length === 0) {
      return {
        title: "RideBalance",
        views: [
          {
            title: "Ride",
            path: "ride",
            cards: [
              {
                type: "markdown",
                content:
                  "No RideBalance rider yet. Add one under **Settings → Devices & services → Add integration → RideBalance**; this dashboard then fills itself in.",
              },
            ],
          },
        ],
      };
    }
    const options = config || {};
    const views = [];
    for (const rider of riders) {
      const one = riders.length === 1;
      views.push({
        title: one ? "Ride" : rider.name,
        path: rider.slug,
        icon: "mdi:bike",
        type: "sections",
        max_columns: 3,
        dense_section_placement: true,
        sections: rideSections(rider, options),
      });
      views.push({
        title: one ? "Trends" : `${rider.name}: trends`,
        path: `${rider.slug}-trends`,
        icon: "mdi:chart-timeline-variant",
        type: "sections",
        max_columns: 3,
        sections: trendsSections(await trendSeries(hass, rider), options),
      });
    }
    return { title: "RideBalance", views };
  }
}

// The live balance as one bar: left share from the left edge, right share from
// the right, the rider's usual share at this effort as a marker, and the power
// band that usual share belongs to. The bar shows a window around 50 % (35-65 %
// unless configured), because a 2-point difference is invisible on 0-100 %.
class RideBalanceBalanceCard extends HTMLElement {
  static getStubConfig(hass) {
    const rider = rideEntities(hass)[0];
    if (!rider) return { entity: "" };
    return {
      entity: rider.entities["sensor.left_balance"],
      baseline_entity: rider.entities["sensor.balance_vs_baseline"],
    };
  }

  setConfig(config) {
    if (!config || !config.entity) {
      throw new Error("Set 'entity' to a RideBalance left balance sensor");
    }
    const min = Number(config.min ?? 35);
    const max = Number(config.max ?? 65);
    if (!(min < 50 && max > 50)) {
      throw new Error("'min' must be below 50 and 'max' above 50");
    }
    this._config = { ...config, min, max };
    this._render();
  }

  set hass(hass) {
    const ids = [this._config?.entity, this._config?.baseline_entity];
    const changed =
      !this._hass || ids.some((id) => id && this._hass.states[id] !== hass.states[id]);
    this._hass = hass;
    if (changed) this._render();
  }

  getCardSize() {
    return 3;
  }

  getGridOptions() {
    return { columns: 12, min_columns: 6, rows: 3, min_rows: 3 };
  }

  _render() {
    if (!this._config || !this._hass) return;
    if (!this.shadowRoot) {
      this.attachShadow({ mode: "open" });
      this.shadowRoot.innerHTML = `<style>${BALANCE_CSS}</style><ha-card></ha-card>`;
    }
    const card = this.shadowRoot.querySelector("ha-card");
    const { entity, baseline_entity: baselineId, min, max } = this._config;
    const state = this._hass.states[entity];
    if (!state) {
      card.innerHTML = `<div class="warning">Entity not found: ${escape(entity)}</div>`;
      return;
    }
    const left = Number.parseFloat(state.state);
    const live = Number.isFinite(left);
    const base = baselineId ? this._hass.states[baselineId] : undefined;
    const usual = Number.parseFloat(base?.attributes.usual_left_pct);
    const band = base?.attributes.power_band;
    const at = (pct) => (100 * (clamp(pct, min, max) - min)) / (max - min);
    const name = this._config.name || "Left | right";
    const shown = (pct) => (Number.isFinite(pct) ? `${pct.toFixed(1)} %` : "–");
    const split = live ? at(left) : 50;
    let usualText = "No usual share yet at this effort: it is learnt as you ride.";
    if (Number.isFinite(usual)) {
      const diff = live ? left - usual : Number.NaN;
      const where = band ? ` at ${escape(band)}` : "";
      const now = Number.isFinite(diff)
        ? ` · now ${Math.abs(diff).toFixed(1)} pts more ${diff >= 0 ? "left" : "right"}`
        : "";
      usualText = `Your usual${where}: ${usual.toFixed(1)} % left${now}`;
    }
    card.innerHTML = `
      <div class="head">
        <span class="name">${escape(name)}</span>
        <span class="band">${band ? escape(band) : live ? "" : "Not riding"}</span>
      </div>
      <div class="values">
        <span class="left"><span class="side">Left</span> ${live ? shown(left) : "–"}</span>
        <span class="right">${live ? shown(100 - left) : "–"} <span class="side">Right</span></span>
      </div>
      <div class="bar" role="img" aria-label="Left ${live ? shown(left) : "unknown"}">
        <div class="fill left" style="width:${split}%"></div>
        <div class="fill right" style="left:${split}%"></div>
        <div class="even" style="left:${at(50)}%"></div>
        ${Number.isFinite(usual) ? `<div class="usual" style="left:${at(usual)}%" title="Your usual"></div>` : ""}
      </div>
      <div class="scale"><span>${min} %</span><span>50 %</span><span>${max} %</span></div>
      <div class="usual-text">${usualText}</div>`;
  }
}

const clamp = (value, low, high) => Math.min(high, Math.max(low, value));
const escape = (text) =>
  String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const BALANCE_CSS = `
  ha-card { padding: 12px 16px; height: 100%; box-sizing: border-box; }
  .head, .values, .scale { display: flex; justify-content: space-between; align-items: baseline; }
  .name { color: var(--primary-text-color); font-weight: 500; }
  .band, .scale, .usual-text, .side { color: var(--secondary-text-color); font-size: 0.875em; }
  .values { margin: 4px 0; font-size: 1.6em; color: var(--primary-text-color); }
  .bar { position: relative; height: 18px; border-radius: 9px; overflow: hidden;
         background: var(--divider-color); }
  .fill { position: absolute; top: 0; bottom: 0; }
  .fill.left { left: 0; background: var(--ridebalance-left-color, var(--primary-color)); }
  .fill.right { right: 0; background: var(--ridebalance-right-color, var(--accent-color)); }
  .even { position: absolute; top: 0; bottom: 0; width: 1px;
          background: var(--card-background-color, var(--ha-card-background)); opacity: 0.8; }
  .usual { position: absolute; top: -1px; bottom: -1px; width: 4px; margin-left: -2px;
           border-radius: 2px; background: var(--primary-text-color); }
  .scale { margin-top: 2px; }
  .usual-text { margin-top: 6px; }
  .warning { padding: 8px; color: var(--error-color); }
`;

// The frontend swaps in its own element registry (a polyfill for scoped
// registries) when its app starts; an element defined before that is invisible
// to it. This module can load first, so it defines its elements once the app's
// root element exists.
const register = () => {
  const define = (tag, element) => {
    if (!customElements.get(tag)) customElements.define(tag, element);
  };
  // Offered in "Add dashboard" and in the card picker.
  const offer = (list, entry) => {
    window[list] = window[list] || [];
    if (!window[list].some((item) => item.type === entry.type)) window[list].push(entry);
  };
  define(`ll-strategy-dashboard-${STRATEGY}`, RideBalanceDashboardStrategy);
  define(BALANCE_CARD, RideBalanceBalanceCard);
  offer("customStrategies", {
    type: STRATEGY,
    strategyType: "dashboard",
    name: "RideBalance",
    description: "Live balance, alerts and sessions of every RideBalance rider",
  });
  offer("customCards", {
    type: BALANCE_CARD,
    name: "RideBalance balance",
    description: "Live left | right share with your usual share at this effort",
    preview: true,
  });
};
customElements.whenDefined("home-assistant").then(register);
