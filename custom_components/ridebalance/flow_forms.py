"""The config flow's forms: picking heard devices, and choosing entities.

The pick form is the same whether the devices were heard by the local stick or
through a gateway; the flow itself (``config_flow.py``) decides where to listen.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from homeassistant.helpers.selector import (
    BooleanSelector,
    EntitySelector,
    EntitySelectorConfig,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)
import probatio

from .ant.pages import (
    DEVICE_TYPE_BICYCLE_POWER,
    DEVICE_TYPE_FITNESS_EQUIPMENT,
    DEVICE_TYPE_HEART_RATE,
)
from .ant.scan import HeardDevice
from .const import (
    CONF_BALANCE_ENTITY,
    CONF_BALANCE_SIDE,
    CONF_CADENCE_ENTITY,
    CONF_HEART_RATE,
    CONF_HEART_RATE_ENTITY,
    CONF_PEDALS,
    CONF_POWER_ENTITY,
    CONF_SOURCE,
    CONF_TRAINER,
    SourceKind,
)

NONE: Final = "none"
CONF_SCAN_AGAIN: Final = "scan_again"
MAX_DEVICE_NUMBER: Final = 0xFFFFF  # 20 bits with the transmission-type extension


def device_option(device: HeardDevice) -> SelectOptionDict:
    """``number · manufacturer · N pages`` for one heard device."""
    parts = [str(device.extended_device_number)]
    if device.description:
        parts.append(device.description)
    parts.append(f"{device.page_count} pages")
    return SelectOptionDict(
        value=str(device.extended_device_number), label=" · ".join(parts)
    )


def parse_number(value: Any) -> int | None:
    """A device number from a select (heard or typed); None for "none"."""
    if value in (None, "", NONE):
        return None
    number = int(str(value).strip())
    if not 0 < number <= MAX_DEVICE_NUMBER:
        raise ValueError(value)
    return number


def pick_schema(
    heard: list[HeardDevice],
    current: Mapping[str, Any],
    user_input: Mapping[str, Any] | None,
) -> probatio.Schema:
    """Pedals, trainer and strap to choose from what was heard.

    Defaults: what the rider just typed, else the entry's current device when it
    was heard again, else the most active device heard.
    """

    def of(device_type: int) -> list[HeardDevice]:
        return [d for d in heard if d.device_type == device_type]

    trainers = of(DEVICE_TYPE_FITNESS_EQUIPMENT)
    # A trainer also sends power under its own number: not the pedals.
    trainer_numbers = {d.device_number for d in trainers}
    pedals = [
        d
        for d in of(DEVICE_TYPE_BICYCLE_POWER)
        if d.device_number not in trainer_numbers
    ]
    straps = of(DEVICE_TYPE_HEART_RATE)

    def default(key: str, devices: list[HeardDevice], fallback: str) -> str:
        if user_input is not None and user_input.get(key) is not None:
            return str(user_input[key])
        numbers = [str(d.extended_device_number) for d in devices]
        if current.get(key) is not None and str(current[key]) in numbers:
            return str(current[key])
        return numbers[0] if numbers else fallback

    def select(devices: list[HeardDevice], optional: bool) -> SelectSelector:
        options = [device_option(d) for d in devices]
        if optional:
            options.append(SelectOptionDict(value=NONE, label="None"))
        return SelectSelector(
            SelectSelectorConfig(
                options=options,
                custom_value=True,  # a number read off the device also works
                mode=SelectSelectorMode.DROPDOWN,
            )
        )

    fields: dict[Any, Any] = {}
    pedal_default = default(CONF_PEDALS, pedals, "")
    if pedal_default:
        fields[probatio.Required(CONF_PEDALS, default=pedal_default)] = select(
            pedals, optional=False
        )
    else:
        fields[probatio.Required(CONF_PEDALS)] = select(pedals, optional=False)
    fields[
        probatio.Required(CONF_TRAINER, default=default(CONF_TRAINER, trainers, NONE))
    ] = select(trainers, optional=True)
    fields[
        probatio.Required(
            CONF_HEART_RATE, default=default(CONF_HEART_RATE, straps, NONE)
        )
    ] = select(straps, optional=True)
    fields[probatio.Optional(CONF_SCAN_AGAIN, default=False)] = BooleanSelector()
    return probatio.Schema(fields)


def entities_schema() -> probatio.Schema:
    """Power (required), cadence, balance (and its side) and heart-rate sensors."""
    sensor = EntitySelector(EntitySelectorConfig(domain="sensor"))
    return probatio.Schema(
        {
            probatio.Required(CONF_POWER_ENTITY): sensor,
            probatio.Optional(CONF_CADENCE_ENTITY): sensor,
            probatio.Optional(CONF_BALANCE_ENTITY): sensor,
            probatio.Required(CONF_BALANCE_SIDE, default="left"): SelectSelector(
                SelectSelectorConfig(
                    options=["left", "right"],
                    mode=SelectSelectorMode.LIST,
                    translation_key=CONF_BALANCE_SIDE,
                )
            ),
            probatio.Optional(CONF_HEART_RATE_ENTITY): sensor,
        }
    )


def entities_data(
    user_input: Mapping[str, Any],
) -> tuple[dict[str, Any], dict[str, str]]:
    """The entry data of an entities rider, and the form's errors."""
    data: dict[str, Any] = {
        CONF_SOURCE: SourceKind.ENTITIES.value,
        CONF_POWER_ENTITY: user_input[CONF_POWER_ENTITY],
        CONF_CADENCE_ENTITY: user_input.get(CONF_CADENCE_ENTITY),
        CONF_BALANCE_ENTITY: user_input.get(CONF_BALANCE_ENTITY),
        CONF_BALANCE_SIDE: user_input.get(CONF_BALANCE_SIDE, "left"),
        CONF_HEART_RATE_ENTITY: user_input.get(CONF_HEART_RATE_ENTITY),
    }
    chosen = [
        data[key]
        for key in (
            CONF_POWER_ENTITY,
            CONF_CADENCE_ENTITY,
            CONF_BALANCE_ENTITY,
            CONF_HEART_RATE_ENTITY,
        )
        if data[key]
    ]
    if len(chosen) != len(set(chosen)):
        return data, {"base": "same_entity_twice"}
    return data, {}
