"""FIT profile enum names (sport, sub-sport, manufacturer, Garmin product).

fitdecode ships the FIT profile of SDK 21.171. Names the profile gained up to
21.218 are listed here so a file from a newer head unit (an Edge 550, a Peloton
export, an e-bike enduro ride) still reads with its names instead of bare numbers,
and the writer can encode every sub-sport a ride can carry.
"""

from __future__ import annotations

from typing import cast

from fitdecode import profile

FIT_EPOCH_UNIX = 631065600
"""FIT ``date_time`` values count seconds from 1989-12-31T00:00:00Z."""
RIGHT_BIT = 0x80
"""``record.left_right_balance``: set = the low 7 bits are the right pedal's %."""
SESSION_RIGHT_BIT = 0x8000
"""``session``/``lap`` ``left_right_balance``: set = the right pedal's share."""

# Values added to the FIT profile after 21.171 (profile 21.218), by type.
_NEWER: dict[str, dict[int, str]] = {
    "sport": {
        56: "shooting",
        58: "winter_sport",
        59: "grinding",
        63: "video_gaming",
        68: "para_sport",
        70: "team_sport",
        78: "water_sport",
        79: "archery",
        81: "motor_sports",
        85: "pool_apnea",
        86: "mobility",
        87: "geocaching",
        88: "canoeing",
    },
    "sub_sport": {
        63: "ccr_diving",
        66: "expedition",
        71: "indoor_grinding",
        72: "hunting_with_dogs",
        77: "esport",
        78: "triathlon",
        79: "duathlon",
        80: "brick",
        81: "swim_run",
        82: "adventure_race",
        83: "trucker_workout",
        90: "field",
        91: "ice",
        92: "ultimate",
        93: "platform",
        98: "overland",
        99: "trolling_motor",
        121: "dynamic_apnea",
        123: "enduro",
        124: "rucking",
        125: "rally",
        126: "pool_triathlon",
        127: "e_bike_enduro",
    },
    "manufacturer": {
        337: "runna",
        339: "zepp",
        340: "peloton",
        341: "carv",
        342: "tissot",
        345: "real_velo",
        346: "wetech",
        347: "jespr",
        348: "huawei",
        349: "gotoes",
        350: "cadence_app",
        351: "una_watch",
        352: "tymewear",
        353: "exposure_lights",
        354: "forto_cycling",
    },
    "garmin_product": {
        4525: "rally_x10",
        4565: "fr970",
        4570: "fr570_large",
        4574: "fr570_small",
        4595: "fenix7_pro_solar_no_wifi",
        4603: "venu_x1",
        4631: "fenix8_pro",
        4633: "edge_550",
        4634: "edge_850",
        4643: "venu4",
        4644: "venu4s",
        4655: "edge_mtb",
        4678: "instinct_crossover_amoled",
        4745: "bounce2",
        4814: "fr170_music",
        4815: "fr170",
        4825: "approach_j1",
        4874: "approach_s72_43mm",
        4875: "approach_s72_47mm",
        4879: "d2_mach2",
        4916: "fr70_2026",
        4944: "d2_air_x15",
        4952: "fenix9_pro_43mm",
        4953: "fenix9_pro_47mm",
        4954: "fenix9_pro_51mm",
        4955: "fenix9_pro_solar_47mm",
        4956: "fenix9_pro_solar_51mm",
        5019: "cirqa_smart_band",
        5056: "d2_mach2_pro",
        5133: "fenix9_43mm",
        5134: "fenix9",
        5169: "enduro4",
        30059: "training_peaks_virtual_ios",
        30060: "training_peaks_virtual_android",
        30061: "training_peaks_virtual_windows",
        30062: "training_peaks_virtual_mac_os",
        30063: "training_peaks_virtual_apple_tv",
    },
}


def _table(type_name: str) -> dict[int, str]:
    known = cast(dict[int, str], profile.FIELD_TYPES[type_name].enum or {})
    return {**known, **_NEWER.get(type_name, {})}


_TABLES: dict[str, dict[int, str]] = {
    name: _table(name)
    for name in ("sport", "sub_sport", "manufacturer", "garmin_product")
}
_VALUES: dict[str, dict[str, int]] = {
    name: {label: value for value, label in table.items()}
    for name, table in _TABLES.items()
}


def enum_name(type_name: str, raw: object) -> str | None:
    """The profile's name for a raw enum value; None when unknown or invalid."""
    if not isinstance(raw, int):
        return None
    return _TABLES[type_name].get(raw)


def enum_value(type_name: str, name: str) -> int | None:
    """The raw value of a profile name; None when the profile has no such name."""
    return _VALUES[type_name].get(name)
