"""Serve the RideBalance dashboard strategy and card to the frontend.

``www/ridebalance.js`` is plain JavaScript checked in with the integration: no
build step and no separate frontend plugin to install. It is served under
``/ridebalance/`` and added to every page the frontend loads, where it defines
the ``custom:ridebalance`` dashboard strategy and the balance card.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from homeassistant.components.frontend import add_extra_js_url
from homeassistant.components.http.server import StaticPathConfig
from homeassistant.core import HomeAssistant

URL_BASE = "/ridebalance"
MODULE = Path(__file__).parent / "www" / "ridebalance.js"


def _version(path: Path) -> str:
    """A short digest of the module, so browsers fetch it again after an update."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


async def async_register_frontend(hass: HomeAssistant) -> None:
    """Serve the module and have the frontend load it on every page.

    Without the frontend (e.g. a headless install) there is nothing to serve to.
    """
    if "frontend" not in hass.config.components:
        return
    version = await hass.async_add_executor_job(_version, MODULE)
    await hass.http.async_register_static_paths(
        [StaticPathConfig(f"{URL_BASE}/{MODULE.name}", str(MODULE), True)]
    )
    add_extra_js_url(hass, f"{URL_BASE}/{MODULE.name}?v={version}")
