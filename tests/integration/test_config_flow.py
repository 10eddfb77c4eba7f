"""The config flow: choosing a source, the ANT+ stick's setup, entities, options."""

from __future__ import annotations

import errno
from functools import partial
import threading
import time
from typing import Any

from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    SOURCE_USB,
    SOURCE_USER,
    ConfigEntry,
    ConfigEntryState,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.service_info.usb import UsbServiceInfo
from homeassistant.helpers.translation import async_get_translations
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

import custom_components.ridebalance as integration
from custom_components.ridebalance import config_flow
from custom_components.ridebalance.ant.pages import RawPage
from custom_components.ridebalance.ant.scan import scan
from custom_components.ridebalance.ant.stick import ReceiverSettings
from custom_components.ridebalance.const import (
    CONF_BALANCE_ENTITY,
    CONF_BALANCE_SIDE,
    CONF_CADENCE_ENTITY,
    CONF_DEVICE,
    CONF_HEART_RATE,
    CONF_HEART_RATE_ENTITY,
    CONF_PEDALS,
    CONF_POWER_ENTITY,
    CONF_SOURCE,
    CONF_SPEED,
    CONF_TRAINER,
    DOMAIN,
)
from custom_components.ridebalance.sim.emulators import (
    HeartRateEncoder,
    PedalEncoder,
    TrainerEncoder,
)
from custom_components.ridebalance.sources.ant import AntSource, stick_issue_id
from tests.ant.receiver_kit import wait_for
from tests.usbstick.backend import SimulatedStick
from tests.usbstick.firmware import SERIAL_NUMBER

from .helpers import set_up

FAST = ReceiverSettings(
    stale_after_s=0.5,
    probe_timeout_s=0.3,
    batch_interval_s=0.05,
    backoff_initial_s=0.05,
    backoff_max_s=0.2,
    stop_timeout_s=1.0,
    usb_error_pause_s=0.01,
    reply_timeout_s=0.5,
)
PEDALS = 12345
TRAINER = 2222
HRM = 777
OTHER_STRAP = 31337
STICK_SERIAL = str(SERIAL_NUMBER)  # what the simulated stick answers
USB_INFO = UsbServiceInfo(
    device="/dev/bus/usb/001/004",
    vid="0FCF",
    pid="1008",
    serial_number="123",
    manufacturer="Dynastream Innovations",
    description="ANT USBStick2",
)


@pytest.fixture
def stick(monkeypatch: pytest.MonkeyPatch) -> SimulatedStick:
    """A fake stick; the flow scans briefly and entries use short timings."""
    fake = SimulatedStick().install(monkeypatch)
    monkeypatch.setattr(config_flow, "SCAN_SECONDS", 0.6)
    monkeypatch.setattr(config_flow, "STICK_SETTINGS", FAST)
    monkeypatch.setattr(integration, "AntSource", partial(AntSource, settings=FAST))
    return fake


def on_air(stick: SimulatedStick, pages: list[RawPage]) -> None:
    """Broadcast pages; they wait on the air until the stick listens."""
    for page in pages:
        stick.queue_broadcast(
            page.device_type, page.device_number, page.data, page.transmission_type
        )


def rider_on_air(stick: SimulatedStick) -> None:
    """The rider's pedals, trainer and strap, plus a neighbour's strap, briefly."""
    pedals = PedalEncoder(PEDALS, common_every=4)
    trainer = TrainerEncoder(TRAINER, common_every=4)
    strap = HeartRateEncoder(HRM, background_every=4)
    other = HeartRateEncoder(OTHER_STRAP)
    for i in range(12):
        t_s = 0.25 * (i + 1)
        on_air(stick, [pedals.page(t_s, 200.0, 51.0, 90.0)])
        on_air(stick, trainer.pages(t_s, 200.0, 90.0))
        on_air(stick, [strap.page(t_s, 130.0)])
        if i < 3:
            on_air(stick, [other.page(t_s, 90.0)])


def options_of(result: Any, key: str) -> list[dict[str, str]]:
    """The choices a select field of a form offers."""
    for marker, selector in result["data_schema"].schema.items():
        if marker == key:
            return list(selector.config["options"])
    raise AssertionError(f"{key} is not in the form")


async def finish_scan(hass: HomeAssistant, result: Any) -> Any:
    """Wait for the scan's progress to end and return the step that follows."""
    assert result["type"] is FlowResultType.SHOW_PROGRESS
    assert result["progress_action"] == "scan"
    await hass.async_block_till_done(wait_background_tasks=True)
    return await hass.config_entries.flow.async_configure(result["flow_id"])


async def start_reconfigure(hass: HomeAssistant, entry: ConfigEntry) -> Any:
    """Open the reconfigure dialog of an entry, as its menu does."""
    return await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
    )


async def error_text(hass: HomeAssistant, key: str) -> str:
    """The English text of a translation key of this integration."""
    texts = await async_get_translations(hass, "en", "config", [DOMAIN])
    return texts[f"component.{DOMAIN}.config.error.{key}"]


async def test_usb_discovery_to_a_paired_rider(
    hass: HomeAssistant, stick: SimulatedStick
) -> None:
    """Plugging the stick in: confirm, listen, pick the rider's devices, ride."""
    rider_on_air(stick)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USB}, data=USB_INFO
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "usb_confirm"
    placeholders = result["description_placeholders"]
    assert placeholders is not None
    assert placeholders["name"] == "ANT USBStick2"

    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    result = await finish_scan(hass, result)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "pick"

    pedals = options_of(result, CONF_PEDALS)
    # The trainer's own power channel is not offered as pedals.
    assert [o["value"] for o in pedals] == [str(PEDALS)]
    assert "Favero Electronics" in pedals[0]["label"]
    trainers = [o["value"] for o in options_of(result, CONF_TRAINER)]
    assert trainers == [str(TRAINER), "none"]
    straps = options_of(result, CONF_HEART_RATE)
    assert [o["value"] for o in straps] == [str(HRM), str(OTHER_STRAP), "none"]
    assert "Garmin" in straps[0]["label"]

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_PEDALS: str(PEDALS), CONF_TRAINER: str(TRAINER), CONF_HEART_RATE: "none"},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "ANT+ rider"
    assert result["data"] == {
        CONF_SOURCE: "ant",
        CONF_DEVICE: STICK_SERIAL,
        CONF_PEDALS: PEDALS,
        CONF_TRAINER: TRAINER,
        CONF_HEART_RATE: None,
    }
    entry = result["result"]
    assert entry.unique_id == "ant"
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert hass.states.get("sensor.ant_rider_power") is not None
    await hass.config_entries.async_unload(entry.entry_id)


async def test_manual_stick_with_a_typed_device_number(
    hass: HomeAssistant, stick: SimulatedStick
) -> None:
    """Nothing heard: the rider listens again, or types the pedals' number."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["menu_options"] == ["ant", "gateway", "entities", "simulator"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "ant"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "ant"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    result = await finish_scan(hass, result)
    assert result["step_id"] == "pick"
    assert options_of(result, CONF_PEDALS) == []

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_PEDALS: "", CONF_TRAINER: "none", CONF_HEART_RATE: "none"},
    )
    assert result["errors"] == {CONF_PEDALS: "pedals_required"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_PEDALS: "pedals", CONF_TRAINER: "none", CONF_HEART_RATE: "none"},
    )
    assert result["errors"] == {"base": "invalid_device_number"}

    rider_on_air(stick)  # the rider wakes the pedals up and listens again
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_PEDALS: "1",
            CONF_TRAINER: "none",
            CONF_HEART_RATE: "none",
            "scan_again": True,
        },
    )
    result = await finish_scan(hass, result)
    assert [o["value"] for o in options_of(result, CONF_PEDALS)] == [str(PEDALS)]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_PEDALS: str(TRAINER),
            CONF_TRAINER: str(TRAINER),
            CONF_HEART_RATE: "none",
        },
    )
    assert result["errors"] == {"base": "pedals_are_trainer"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_PEDALS: "54321", CONF_TRAINER: "none", CONF_HEART_RATE: str(HRM)},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_PEDALS] == 54321
    assert result["data"][CONF_HEART_RATE] == HRM
    await hass.async_block_till_done()
    await hass.config_entries.async_unload(result["result"].entry_id)


@pytest.mark.parametrize(
    "case",
    [
        ("unplugged", "not_found", "--device /dev/bus/usb"),
        ("busy", "busy", "Zwift"),
        ("permission", "permission_denied", "udevadm"),
        ("silent", "not_responding", "plug it back in"),
        ("no_libusb", "no_backend", "libusb"),
        ("failing", "io_error", "USB extension cable"),
    ],
)
async def test_stick_problems_are_shown_with_their_fix(
    hass: HomeAssistant,
    stick: SimulatedStick,
    monkeypatch: pytest.MonkeyPatch,
    case: tuple[str, str, str],
) -> None:
    """Each way the stick cannot be opened names the problem and how to fix it."""
    problem, error, fix = case
    match problem:
        case "unplugged":
            stick.unplug()
        case "busy":
            stick.set_open_error(16)
        case "permission":
            stick.set_open_error(13)
        case "silent":
            stick.set_silent(True)
        case "no_libusb":
            stick.no_backend = True
        case "failing":
            stick.set_open_error(errno.EIO)

    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "ant"}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "ant"
    assert result["errors"] == {"base": error}
    assert fix in await error_text(hass, error)

    # Once fixed, the same form goes on to listen for devices.
    stick.replug()
    stick.set_open_error(None)
    stick.set_silent(False)
    stick.no_backend = False
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    result = await finish_scan(hass, result)
    assert result["step_id"] == "pick"
    hass.config_entries.flow.async_abort(result["flow_id"])


async def test_usb_confirm_shows_a_busy_stick(
    hass: HomeAssistant, stick: SimulatedStick
) -> None:
    """A discovered stick Zwift holds is explained on the confirm form."""
    stick.set_open_error(16)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USB}, data=USB_INFO
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["step_id"] == "usb_confirm"
    assert result["errors"] == {"base": "busy"}


async def test_stick_lost_during_the_scan_can_be_retried(
    hass: HomeAssistant, stick: SimulatedStick
) -> None:
    """Pulled out mid-scan: the flow says so and listens again once it is back."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USB}, data=USB_INFO
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.SHOW_PROGRESS
    assert await hass.async_add_executor_job(wait_for, lambda: stick.scanning)
    stick.unplug()
    result = await finish_scan(hass, result)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "scan_failed"
    assert result["errors"] == {"base": "not_found"}

    stick.replug()
    rider_on_air(stick)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    result = await finish_scan(hass, result)
    assert result["step_id"] == "pick"
    hass.config_entries.flow.async_abort(result["flow_id"])


def state_of(entry: ConfigEntry) -> ConfigEntryState:
    """The entry's state now (a call, so type checkers do not narrow it)."""
    return entry.state


def ant_entry() -> MockConfigEntry:
    """A rider on the stick, with pedals and strap paired."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="ANT+ rider",
        unique_id="ant",
        data={
            CONF_SOURCE: "ant",
            CONF_DEVICE: STICK_SERIAL,
            CONF_PEDALS: PEDALS,
            CONF_TRAINER: None,
            CONF_HEART_RATE: OTHER_STRAP,
        },
        entry_id="ant_entry_id",
    )


async def test_one_stick_entry_only(hass: HomeAssistant, stick: SimulatedStick) -> None:
    """With the stick set up, discovery and the manual path both abort."""
    ant_entry().add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USB}, data=USB_INFO
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"

    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "ant"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_reconfigure_scans_again_and_repicks(
    hass: HomeAssistant, stick: SimulatedStick
) -> None:
    """The running entry lets go of the stick, re-picks, and runs again."""
    entry = ant_entry()
    await set_up(hass, entry)

    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure_ant"
    rider_on_air(stick)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert state_of(entry) is ConfigEntryState.NOT_LOADED  # the stick is free
    result = await finish_scan(hass, result)
    assert result["step_id"] == "pick"
    # The strap paired before is still the default choice.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_PEDALS: str(PEDALS),
            CONF_TRAINER: str(TRAINER),
            CONF_HEART_RATE: str(HRM),
        },
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.data[CONF_HEART_RATE] == HRM
    assert entry.data[CONF_TRAINER] == TRAINER
    assert entry.state is ConfigEntryState.LOADED
    await hass.config_entries.async_unload(entry.entry_id)


async def test_abandoned_reconfigure_gives_the_stick_back(
    hass: HomeAssistant, stick: SimulatedStick
) -> None:
    """Closing the dialog mid-way restarts the entry with its old devices."""
    entry = ant_entry()
    await set_up(hass, entry)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    result = await finish_scan(hass, result)
    assert state_of(entry) is ConfigEntryState.NOT_LOADED

    hass.config_entries.flow.async_abort(result["flow_id"])
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.data[CONF_HEART_RATE] == OTHER_STRAP
    await hass.config_entries.async_unload(entry.entry_id)


async def test_reconfigure_abandoned_mid_scan_stops_the_scan_first(
    hass: HomeAssistant, stick: SimulatedStick, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Closed while still listening: the scan lets go, then the entry takes the
    stick, with no "stick busy" issue and no wait for the scan's full length."""
    monkeypatch.setattr(config_flow, "SCAN_SECONDS", 60.0)
    entry = ant_entry()
    await set_up(hass, entry)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.SHOW_PROGRESS
    assert await hass.async_add_executor_job(wait_for, lambda: stick.scanning)

    hass.config_entries.flow.async_abort(result["flow_id"])
    started = time.monotonic()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert time.monotonic() - started < 10  # not the scan's 60 s
    assert state_of(entry) is ConfigEntryState.LOADED
    assert (
        ir.async_get(hass).async_get_issue(DOMAIN, stick_issue_id(entry.entry_id))
        is None
    )
    await hass.config_entries.async_unload(entry.entry_id)


ENTITIES_INPUT = {
    CONF_POWER_ENTITY: "sensor.kickr_power",
    CONF_CADENCE_ENTITY: "sensor.kickr_cadence",
    CONF_BALANCE_ENTITY: "sensor.assioma_balance",
    CONF_BALANCE_SIDE: "right",
    CONF_HEART_RATE_ENTITY: "sensor.strap_heart_rate",
}


async def test_entities_source(hass: HomeAssistant) -> None:
    """Another integration's sensors feed the rider; one entry per power sensor."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "entities"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "entities"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {**ENTITIES_INPUT, CONF_CADENCE_ENTITY: "sensor.kickr_power"},
    )
    assert result["errors"] == {"base": "same_entity_twice"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], ENTITIES_INPUT
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {CONF_SOURCE: "entities", **ENTITIES_INPUT}
    entry = result["result"]
    assert entry.unique_id == "sensor.kickr_power"
    await hass.async_block_till_done()

    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "entities"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_POWER_ENTITY: "sensor.kickr_power"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"

    # Reconfigure: a power meter on the pedals instead of the trainer.
    result = await start_reconfigure(hass, entry)
    assert result["step_id"] == "reconfigure_entities"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {**ENTITIES_INPUT, CONF_POWER_ENTITY: "sensor.assioma_power"},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.unique_id == "sensor.assioma_power"
    assert entry.data[CONF_POWER_ENTITY] == "sensor.assioma_power"
    await hass.async_block_till_done()
    await hass.config_entries.async_unload(entry.entry_id)


async def test_simulator_happy_path(hass: HomeAssistant) -> None:
    """A rider without hardware picks the simulator and gets an entry."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.MENU
    assert "simulator" in result["menu_options"]

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "simulator"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "simulator"

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SPEED: 10}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Simulated rider"
    assert result["data"] == {CONF_SOURCE: "simulator"}
    assert result["options"] == {CONF_SPEED: 10.0}
    entry = result["result"]
    assert entry.unique_id == "simulator"
    await hass.async_block_till_done()
    assert hass.states.get("sensor.simulated_rider_power") is not None

    result = await start_reconfigure(hass, entry)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "simulator_reconfigure"
    await hass.config_entries.async_unload(entry.entry_id)


async def test_simulator_only_once(
    hass: HomeAssistant, sim_entry: MockConfigEntry
) -> None:
    """A second simulator entry is refused: one entry per source."""
    sim_entry.add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "simulator"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def open_ant_form(hass: HomeAssistant) -> Any:
    """The user menu, then the ANT+ stick's form."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "ant"}
    )


def default_of(result: Any, key: str) -> Any:
    """The value a form field is pre-filled with."""
    for marker in result["data_schema"].schema:
        if marker == key:
            return marker.default()
    raise AssertionError(f"{key} is not in the form")


def receiver_threads_gone() -> bool:
    """No receiver or openant thread is running (the scan has let go)."""
    return not any(
        t.name.startswith(("ridebalance-ant", "openant")) for t in threading.enumerate()
    )


async def test_a_number_too_big_for_ant_is_refused_and_the_typing_kept(
    hass: HomeAssistant, stick: SimulatedStick
) -> None:
    """A 7-digit number (beyond 20 bits) is refused; the form keeps what was typed."""
    rider_on_air(stick)
    result = await open_ant_form(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    result = await finish_scan(hass, result)
    assert result["step_id"] == "pick"
    assert default_of(result, CONF_PEDALS) == str(PEDALS)  # first heard

    for typed in ("1048576", "0", "-5"):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"],
            {CONF_PEDALS: typed, CONF_TRAINER: str(TRAINER), CONF_HEART_RATE: "none"},
        )
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == {"base": "invalid_device_number"}
        # What the rider typed and chose stays in the form to be corrected.
        assert default_of(result, CONF_PEDALS) == typed
        assert default_of(result, CONF_TRAINER) == str(TRAINER)
        assert default_of(result, CONF_HEART_RATE) == "none"

    # The largest 20-bit number is a valid device number.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_PEDALS: "1048575", CONF_TRAINER: "none", CONF_HEART_RATE: str(HRM)},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_PEDALS] == 1048575
    await hass.async_block_till_done()
    await hass.config_entries.async_unload(result["result"].entry_id)


async def test_an_unexpected_failure_opening_the_stick_is_unknown(
    hass: HomeAssistant, stick: SimulatedStick, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug below the flow shows "unknown" on the form instead of a broken dialog."""

    def broken_probe(_settings: object) -> None:
        raise RuntimeError("libusb handed back garbage")

    monkeypatch.setattr(config_flow, "probe_stick", broken_probe)
    result = await open_ant_form(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "ant"
    assert result["errors"] == {"base": "unknown"}
    hass.config_entries.flow.async_abort(result["flow_id"])


async def test_an_unexpected_failure_while_listening_can_be_retried(
    hass: HomeAssistant, stick: SimulatedStick, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A scan that breaks for no known reason says "unknown"; listening again works."""

    def broken_scan(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("openant thread died")

    monkeypatch.setattr(config_flow, "scan", broken_scan)
    result = await open_ant_form(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    result = await finish_scan(hass, result)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "scan_failed"
    assert result["errors"] == {"base": "unknown"}

    monkeypatch.setattr(config_flow, "scan", scan)
    rider_on_air(stick)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    result = await finish_scan(hass, result)
    assert result["step_id"] == "pick"
    assert [o["value"] for o in options_of(result, CONF_PEDALS)] == [str(PEDALS)]
    hass.config_entries.flow.async_abort(result["flow_id"])


async def test_closing_the_dialog_while_it_listens_frees_the_stick(
    hass: HomeAssistant, stick: SimulatedStick
) -> None:
    """Abandoned mid-scan: no flow is left, and the next setup can listen again."""
    result = await open_ant_form(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.SHOW_PROGRESS
    assert await hass.async_add_executor_job(wait_for, lambda: stick.scanning)

    hass.config_entries.flow.async_abort(result["flow_id"])
    await hass.async_block_till_done()
    assert hass.config_entries.flow.async_progress() == []
    assert await hass.async_add_executor_job(wait_for, receiver_threads_gone)

    rider_on_air(stick)
    result = await open_ant_form(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    result = await finish_scan(hass, result)
    assert result["step_id"] == "pick"
    hass.config_entries.flow.async_abort(result["flow_id"])


async def test_reconfigure_of_a_stopped_entry_leaves_it_stopped(
    hass: HomeAssistant, stick: SimulatedStick
) -> None:
    """An entry that is not running is not started by a reconfigure left half-way;
    a finished one stores the new devices and starts it."""
    entry = ant_entry()
    entry.add_to_hass(hass)
    assert entry.state is ConfigEntryState.NOT_LOADED

    result = await start_reconfigure(hass, entry)
    assert result["step_id"] == "reconfigure_ant"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    result = await finish_scan(hass, result)
    assert result["step_id"] == "pick"
    hass.config_entries.flow.async_abort(result["flow_id"])
    await hass.async_block_till_done()
    assert state_of(entry) is ConfigEntryState.NOT_LOADED

    rider_on_air(stick)
    result = await start_reconfigure(hass, entry)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    result = await finish_scan(hass, result)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_PEDALS: str(PEDALS), CONF_TRAINER: "none", CONF_HEART_RATE: str(HRM)},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_HEART_RATE] == HRM
    await hass.async_block_till_done()
    # Finishing it starts the entry with the devices just picked.
    assert state_of(entry) is ConfigEntryState.LOADED
    await hass.config_entries.async_unload(entry.entry_id)


def entities_entry(power: str, entry_id: str) -> MockConfigEntry:
    """A rider fed by another integration's power sensor."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Rider",
        unique_id=power,
        data={
            CONF_SOURCE: "entities",
            CONF_POWER_ENTITY: power,
            CONF_CADENCE_ENTITY: None,
            CONF_BALANCE_ENTITY: None,
            CONF_BALANCE_SIDE: "left",
            CONF_HEART_RATE_ENTITY: None,
        },
        entry_id=entry_id,
    )


async def test_reconfigure_entities_refuses_taken_or_repeated_sensors(
    hass: HomeAssistant,
) -> None:
    """Another rider's power sensor aborts; one sensor picked twice is an error."""
    trainer_rider = entities_entry("sensor.kickr_power", "kickr_entry")
    pedal_rider = entities_entry("sensor.assioma_power", "assioma_entry")
    trainer_rider.add_to_hass(hass)
    pedal_rider.add_to_hass(hass)

    result = await start_reconfigure(hass, trainer_rider)
    assert result["step_id"] == "reconfigure_entities"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_POWER_ENTITY: "sensor.kickr_power",
            CONF_CADENCE_ENTITY: "sensor.kickr_power",
            CONF_BALANCE_SIDE: "left",
        },
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "same_entity_twice"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_POWER_ENTITY: "sensor.assioma_power", CONF_BALANCE_SIDE: "left"},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    # Neither rider changed.
    assert trainer_rider.data[CONF_POWER_ENTITY] == "sensor.kickr_power"
    assert trainer_rider.unique_id == "sensor.kickr_power"
    assert pedal_rider.data[CONF_POWER_ENTITY] == "sensor.assioma_power"
