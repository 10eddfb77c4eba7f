"""Seed a Home Assistant config folder with a RideBalance simulator entry.

Used by ``scripts/develop`` and the browser check so that RideBalance is already
set up on first start, its pedals sending cycling dynamics. An existing entry is
left alone (its speed is updated, and cycling dynamics switched on).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from types import MappingProxyType

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
    CONF_SOURCE,
    CONF_SPEED,
    DOMAIN,
    SourceKind,
)


def seed(config_dir: Path, speed: float) -> None:
    """Add (or update) the simulator entry in ``core.config_entries``."""
    path = config_dir / ".storage" / STORAGE_KEY
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
    for existing in entries:
        if existing["domain"] == DOMAIN and existing["unique_id"] == "simulator":
            existing["options"] = {CONF_SPEED: speed, CONF_DYNAMICS: True}
            break
    else:
        entry = ConfigEntry(
            data={CONF_SOURCE: SourceKind.SIMULATOR.value},
            discovery_keys=MappingProxyType({}),
            domain=DOMAIN,
            minor_version=RideBalanceConfigFlow.MINOR_VERSION,
            options={CONF_SPEED: speed, CONF_DYNAMICS: True},
            source=SOURCE_USER,
            subentries_data=None,
            title="Simulated rider",
            unique_id=SourceKind.SIMULATOR.value,
            version=RideBalanceConfigFlow.VERSION,
        )
        entries.append(entry.as_dict())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(store, indent=2))


def main() -> None:
    """Command line entry."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("config_dir", type=Path)
    parser.add_argument("--speed", type=float, default=10.0)
    args = parser.parse_args()
    seed(args.config_dir, args.speed)


if __name__ == "__main__":
    main()
