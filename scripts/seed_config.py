"""Seed a Home Assistant config folder with a RideBalance simulator entry.

Used by ``scripts/develop`` and the browser check so that RideBalance is already
set up on first start, its pedals sending cycling dynamics. An existing entry is
left alone (its speed is updated, and cycling dynamics switched on).
With ``--gateway PORT`` it seeds instead Home Assistant's MQTT integration on the
broker at 127.0.0.1:PORT and a rider on the simulated gateway ``develop``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from types import MappingProxyType

from homeassistant.components.mqtt.const import (
    CONFIG_ENTRY_MINOR_VERSION as MQTT_MINOR_VERSION,
    CONFIG_ENTRY_VERSION as MQTT_VERSION,
)
from homeassistant.config_entries import (
    SOURCE_USER,
    STORAGE_KEY,
    STORAGE_VERSION,
    STORAGE_VERSION_MINOR,
    ConfigEntry,
)

from custom_components.ridebalance.config_flow import RideBalanceConfigFlow
from custom_components.ridebalance.const import (
    CONF_DYNAMICS,
    CONF_GATEWAY,
    CONF_HEART_RATE,
    CONF_PEDALS,
    CONF_SOURCE,
    CONF_SPEED,
    CONF_TOPIC_PREFIX,
    CONF_TRAINER,
    DOMAIN,
    SourceKind,
)
from custom_components.ridebalance.gateway.wire import DEFAULT_TOPIC_PREFIX
from custom_components.ridebalance.sim.rider import (
    SIM_HEART_RATE,
    SIM_PEDALS,
    SIM_TRAINER,
)

GATEWAY_ID = "develop"


def _load(path: Path) -> tuple[dict[str, object], list[dict[str, object]]]:
    store: dict[str, object]
    if path.exists():
        store = json.loads(path.read_text())
    else:
        store = {
            "version": STORAGE_VERSION,
            "minor_version": STORAGE_VERSION_MINOR,
            "key": STORAGE_KEY,
            "data": {"entries": []},
        }
    data = store["data"]
    assert isinstance(data, dict)
    entries: list[dict[str, object]] = data["entries"]
    return store, entries


def _entry(
    domain: str,
    title: str,
    unique_id: str,
    data: dict[str, object],
    *,
    options: dict[str, object] | None = None,
    version: int = RideBalanceConfigFlow.VERSION,
    minor_version: int = RideBalanceConfigFlow.MINOR_VERSION,
) -> dict[str, object]:
    """A config entry as ``core.config_entries`` stores it."""
    return ConfigEntry(
        data=data,
        discovery_keys=MappingProxyType({}),
        domain=domain,
        minor_version=minor_version,
        options=options or {},
        source=SOURCE_USER,
        subentries_data=None,
        title=title,
        unique_id=unique_id,
        version=version,
    ).as_dict()


def seed(config_dir: Path, speed: float) -> None:
    """Add (or update) the simulator entry in ``core.config_entries``."""
    path = config_dir / ".storage" / STORAGE_KEY
    store, entries = _load(path)
    for existing in entries:
        if existing["domain"] == DOMAIN and existing["unique_id"] == "simulator":
            existing["options"] = {CONF_SPEED: speed, CONF_DYNAMICS: True}
            break
    else:
        entries.append(
            _entry(
                DOMAIN,
                "Simulated rider",
                SourceKind.SIMULATOR.value,
                {CONF_SOURCE: SourceKind.SIMULATOR.value},
                options={CONF_SPEED: speed, CONF_DYNAMICS: True},
            )
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(store, indent=2))


def seed_gateway(config_dir: Path, port: int) -> None:
    """MQTT on 127.0.0.1:``port`` and a rider on gateway ``develop`` (added once)."""
    path = config_dir / ".storage" / STORAGE_KEY
    store, entries = _load(path)
    broker = {"broker": "127.0.0.1", "port": port}
    mqtt = [e for e in entries if e["domain"] == "mqtt"]
    if mqtt:
        data = mqtt[0]["data"]
        assert isinstance(data, dict)
        data.update(broker)
    else:
        entries.append(
            _entry(
                "mqtt",
                "Local mosquitto",
                "mqtt",
                broker,
                version=MQTT_VERSION,
                minor_version=MQTT_MINOR_VERSION,
            )
        )
    unique_id = f"{DEFAULT_TOPIC_PREFIX}/{GATEWAY_ID}"
    if not any(e["domain"] == DOMAIN and e["unique_id"] == unique_id for e in entries):
        entries.append(
            _entry(
                DOMAIN,
                "Gateway rider",
                unique_id,
                {
                    CONF_SOURCE: SourceKind.GATEWAY.value,
                    CONF_GATEWAY: GATEWAY_ID,
                    CONF_TOPIC_PREFIX: DEFAULT_TOPIC_PREFIX,
                    CONF_PEDALS: SIM_PEDALS,
                    CONF_TRAINER: SIM_TRAINER,
                    CONF_HEART_RATE: SIM_HEART_RATE,
                },
            )
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(store, indent=2))


def main() -> None:
    """Command line entry."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("config_dir", type=Path)
    parser.add_argument("--speed", type=float, default=10.0)
    parser.add_argument("--gateway", type=int, metavar="PORT")
    args = parser.parse_args()
    if args.gateway:
        seed_gateway(args.config_dir, args.gateway)
    else:
        seed(args.config_dir, args.speed)


if __name__ == "__main__":
    main()
