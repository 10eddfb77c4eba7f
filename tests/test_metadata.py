"""What hassfest and HACS check of a custom integration's metadata."""

from __future__ import annotations

import json
from pathlib import Path
import re

from homeassistant import const
from homeassistant.util.yaml import load_yaml
from PIL import Image

from custom_components.ridebalance.gateway.wire import (
    DEFAULT_TOPIC_PREFIX,
    split_status_topic,
    status_topic,
)

PACKAGE = Path(__file__).resolve().parents[1] / "custom_components" / "ridebalance"
REPO = PACKAGE.parents[1]


def _json(path: Path) -> dict[str, object]:
    data = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_manifest_has_what_hassfest_requires() -> None:
    """Keys domain and name first, the rest sorted; version, https docs, USB ids."""
    manifest = _json(PACKAGE / "manifest.json")
    keys = list(manifest)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:])
    assert manifest["domain"] == "ridebalance"
    assert manifest["config_flow"] is True
    assert manifest["iot_class"] == "local_push"
    assert manifest["dependencies"] == ["file_upload", "usb"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", str(manifest["version"]))
    assert str(manifest["documentation"]).startswith("https://")
    assert str(manifest["issue_tracker"]).startswith("https://")
    requirements = manifest["requirements"]
    assert isinstance(requirements, list)
    assert all(re.fullmatch(r"[A-Za-z0-9_.-]+==[0-9.]+", r) for r in requirements)
    usb = manifest["usb"]
    assert isinstance(usb, list)
    assert {(m["vid"], m["pid"]) for m in usb} == {("0FCF", "1008"), ("0FCF", "1009")}


def test_gateways_are_discovered_on_their_status_topic() -> None:
    """Home Assistant's MQTT discovery listens where a gateway announces itself."""
    manifest = _json(PACKAGE / "manifest.json")
    after = manifest["after_dependencies"]
    assert isinstance(after, list)
    assert "mqtt" in after  # used only when set up
    topics = manifest["mqtt"]
    assert isinstance(topics, list)
    (topic,) = topics
    assert topic == status_topic(DEFAULT_TOPIC_PREFIX, "+")
    assert split_status_topic(status_topic(DEFAULT_TOPIC_PREFIX, "gym-pi")) == (
        DEFAULT_TOPIC_PREFIX,
        "gym-pi",
    )


def test_hacs_asks_for_the_tested_home_assistant() -> None:
    """hacs.json names the integration and the Home Assistant it is tested with."""
    hacs = _json(REPO / "hacs.json")
    assert hacs["name"] == "RideBalance"
    assert hacs["homeassistant"] == const.__version__


def test_brand_images_have_the_required_sizes() -> None:
    """Local brand images: 256 px and 512 px squares."""
    with Image.open(PACKAGE / "brand" / "icon.png") as icon:
        assert icon.size == (256, 256)
    with Image.open(PACKAGE / "brand" / "icon@2x.png") as icon:
        assert icon.size == (512, 512)


def test_every_icon_and_action_is_translated() -> None:
    """Icons and services.yaml name nothing the translations lack."""
    strings = _json(PACKAGE / "translations" / "en.json")
    icons = _json(PACKAGE / "icons.json")
    entity_strings = strings["entity"]
    entity_icons = icons["entity"]
    assert isinstance(entity_strings, dict)
    assert isinstance(entity_icons, dict)
    for platform, keys in entity_icons.items():
        assert set(keys) <= set(entity_strings[platform]), platform
    services = load_yaml(PACKAGE / "services.yaml")
    translated = strings["services"]
    service_icons = icons["services"]
    assert isinstance(services, dict)
    assert isinstance(translated, dict)
    assert isinstance(service_icons, dict)
    assert set(services) == set(translated)
    assert set(services) == set(service_icons)
    for name, spec in services.items():
        assert set(spec.get("fields", {})) == set(translated[name]["fields"]), name


def test_quality_scale_names_every_rule_with_a_status() -> None:
    """Every rule is done, todo or exempt, and an exemption says why."""
    scale = load_yaml(PACKAGE / "quality_scale.yaml")
    assert isinstance(scale, dict)
    rules = scale["rules"]
    assert isinstance(rules, dict)
    assert len(rules) >= 50
    for name, rule in rules.items():
        status = rule if isinstance(rule, str) else rule["status"]
        assert status in {"done", "todo", "exempt"}, name
        if status == "exempt":
            assert rule.get("comment"), f"{name} is exempt without a reason"
