"""Start the RideBalance ANT+ gateway, with or without Home Assistant installed.

The integration's package ``custom_components/ridebalance/__init__.py`` sets up
config entries and so imports Home Assistant; the gateway needs only the parts
that import nothing from it (``ant/``, ``analysis/``, ``sim/``, ``gateway/``,
``model.py``, ``angles.py``: what gateway/Containerfile copies). The two
parent packages are registered by their folders, without running their
``__init__``, and those parts then import as usual.
"""

from __future__ import annotations

from pathlib import Path
import sys
import types

ROOT = Path(__file__).resolve().parents[1]


def _register(name: str, folder: Path) -> None:
    if name not in sys.modules:
        package = types.ModuleType(name)
        package.__path__ = [str(folder)]
        sys.modules[name] = package


_register("custom_components", ROOT / "custom_components")
_register("custom_components.ridebalance", ROOT / "custom_components" / "ridebalance")

from custom_components.ridebalance.gateway.program import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
