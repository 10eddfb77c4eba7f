"""The commands, run in-process: what a rider reads on the terminal."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from custom_components.ridebalance.cli.render import render_comparison
from custom_components.ridebalance.rides import read_ride
from custom_components.ridebalance.rides.csv_writer import write_csv
from custom_components.ridebalance.sim import Rider, generate

from .conftest import PNG_MAGIC, ride_csv, run


def test_analyze_table_shows_balance_next_to_head_unit(shared_fit: Path) -> None:
    code, text = run("analyze", str(shared_fit / "edge810-vector-pedals.fit"))
    assert code == 0
    assert "Balance     L 50.2 %  R 49.8 %" in text
    assert "head unit: L 50.16 %  R 49.84 %" in text
    assert "avg 275 W  NP 301 W" in text
    assert "Balance by power band" in text
    assert "300+ W" in text
    assert "1:18:20 riding" in text


def test_analyze_json_and_plot(shared_fit: Path, tmp_path: Path) -> None:
    plot = tmp_path / "ride.png"
    code, text = run(
        "analyze",
        str(shared_fit / "edge810-vector-pedals.fit"),
        "--json",
        "--plot",
        str(plot),
        "--power-floor",
        "60",
    )
    assert code == 0
    doc = json.loads(text)
    assert set(doc) == {
        "version",
        "file",
        "ride",
        "figures",
        "head_unit",
        "analysis",
        "warnings",
        "dynamics",
        "head_unit_dynamics",
        "rides",
        "skipped",
    }
    assert doc["ride"]["balance_side"] == "right"
    assert doc["figures"]["balance_right_pct"] == pytest.approx(49.84, abs=0.3)
    assert doc["head_unit"]["balance_right_pct"] == pytest.approx(49.84)
    assert doc["figures"]["normalized_power_w"] == pytest.approx(301, rel=0.02)
    bands = doc["analysis"]["power_bands"]
    assert [b["label"] for b in bands][-1] == "300+ W"
    assert all("balance_left_pct" in b for b in bands)
    assert isinstance(doc["analysis"]["episodes"], list)
    assert plot.read_bytes()[:8] == PNG_MAGIC
    assert plot.stat().st_size > 10_000


def test_analyze_flags_the_scripted_asymmetry(tmp_path: Path) -> None:
    csv_path = tmp_path / "sim.csv"
    assert run("simulate", "--hz", "1", "--output", str(csv_path))[0] == 0
    code, text = run("analyze", str(csv_path), "--indoor")
    assert code == 0
    assert "indoor" in text
    assert "Flagged episodes (flags, not diagnoses)" in text
    # The demo ride shifts the balance 6 points left from minute 25 to 29.
    line = next(x for x in text.splitlines() if "asymmetry" in x)
    assert line.strip().startswith("0:2")


def test_analyze_side_unknown_is_said_plainly(shared_fit: Path) -> None:
    code, text = run("analyze", str(shared_fit / "wahoo-bolt-short.fit"))
    assert code == 0
    assert "side unknown" in text
    assert "L " not in text.split("Balance", 1)[1].splitlines()[0]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("corrupt-header.fit", "magic"),
        ("truncated-eof.fit", "truncated"),
        ("fenix5-run-not-cycling.fit", "running activity, not a ride"),
        ("edge820-bike-no-power.fit", "no power"),
    ],
)
def test_analyze_errors_are_one_clear_line(
    shared_fit: Path, capsys: pytest.CaptureFixture[str], name: str, message: str
) -> None:
    code, text = run("analyze", str(shared_fit / name))
    assert code == 1
    assert text == ""
    err = capsys.readouterr().err
    assert err.startswith("ridebalance analyze: ")
    assert message in err
    assert err.count("\n") == 1


def test_compare_finds_the_outdoor_lean_and_only_it(tmp_path: Path) -> None:
    # Trainer: 50/50. Road: 53 % left at 150 W and above, 50 % below. (The noise
    # rule's per-side standard error is at or above the spread of band means over
    # 20 simulated rides, see docs/cli.md.)
    indoor = ride_csv(tmp_path / "trainer.csv", Rider(), seed=3)
    outdoor = ride_csv(
        tmp_path / "road.csv",
        Rider(left_below_pct=50.0, left_above_pct=53.0, split_w=150.0),
        seed=4,
    )
    plot = tmp_path / "compare.png"
    code, text = run(
        "compare",
        "--indoor",
        str(indoor),
        "--outdoor",
        str(outdoor),
        "--plot",
        str(plot),
    )
    assert code == 0
    rows = {
        line.split()[0]: line for line in text.splitlines() if line.startswith("  ")
    }
    assert "outdoors more left: beyond noise" in rows["150-200"]
    assert "outdoors more left: beyond noise" in rows["200-250"]
    assert "within noise" in rows["100-150"]
    assert plot.read_bytes()[:8] == PNG_MAGIC

    code, text = run(
        "compare", "--indoor", str(indoor), "--outdoor", str(outdoor), "--json"
    )
    doc = json.loads(text)
    band = next(b for b in doc["bands"] if b["band"] == "200-250 W")
    assert band["difference_pts"] == pytest.approx(3.0, abs=1.0)
    assert band["ci95_pts"] < abs(band["difference_pts"])
    assert band["exceeds_noise"] is True
    assert doc["noise_rule"]["min_difference_pts"] == 1.0


def test_compare_leaves_side_unknown_rides_out(
    shared_fit: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """As the import does; a side left with no ride is an error."""
    indoor = ride_csv(tmp_path / "trainer.csv", Rider(), seed=1)
    code, text = run(
        "compare",
        "--indoor",
        str(indoor),
        "--outdoor",
        str(shared_fit / "wahoo-elemnt-no-side-bit.fit"),
    )
    assert code == 1
    assert text == ""
    assert capsys.readouterr().err.splitlines() == [
        "ridebalance compare: --outdoor: wahoo-elemnt-no-side-bit.fit: the file's "
        "balance has no side (or there is none), so it cannot be used as "
        "left/right; not learnt",
        "ridebalance compare: no outdoor ride is left to compare",
    ]


def test_elapsed_time_is_the_rides_own(tmp_path: Path) -> None:
    """Ten minutes recorded at 4 Hz lasted ten minutes, not a second more."""
    path = tmp_path / "four-hz.csv"
    path.write_text(
        "time_s,power_w,left_pct,cadence_rpm\n"
        + "".join(f"{k / 4},200,49,90\n" for k in range(2400))
    )
    code, text = run("analyze", str(path))
    assert code == 0
    assert "Duration    0:10:00 riding (timer), 0:10:00 elapsed" in text


def test_the_noise_rule_is_said_as_it_is_applied() -> None:
    side = {"files": [], "riding_s": 0.0, "balance_left_pct": None}
    doc = {
        "indoor": side,
        "outdoor": side,
        "bands": [],
        "noise_rule": {"z": 1.96, "min_difference_pts": 2.0, "block_s": 5.0},
    }
    assert render_comparison(doc).endswith(
        "the 95 % interval (5 s block means, autocorrelation-corrected) "
        "and 2 points (balance resolution)."
    )


def test_simulate_csv_and_fit_round_trip(tmp_path: Path) -> None:
    code, text = run("simulate", "--hz", "1")
    assert code == 0
    lines = text.splitlines()
    assert lines[0].startswith("time_s,power_w,left_pct,cadence_rpm")
    assert len(lines) > 3600
    fit_path = tmp_path / "sim.fit"
    assert run("simulate", "--fit", str(fit_path))[0] == 0
    ride = read_ride(fit_path)
    assert ride.indoor is True
    assert ride.has_balance
    assert ride.duration_s > 3600


def test_decode_power_page() -> None:
    # Page 0x10: event 1, pedal 0x80 | 48 (right 48 %), cadence 90, power 200 W.
    code, text = run("decode", "power", "10 01 B0 5A C8 00 C8 00", "--json")
    assert code == 0
    doc = json.loads(text)
    assert doc["page"]
    assert 200 in doc.values()


def test_decode_rejects_bad_pages(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("decode", "hr", "zz")[0] == 1
    assert "not hexadecimal" in capsys.readouterr().err
    assert run("decode", "power", "1001")[0] == 1
    assert "bytes" in capsys.readouterr().err


def test_csv_columns_reach_the_report(tmp_path: Path) -> None:
    path = tmp_path / "short.csv"
    t = np.arange(600)
    rows = ["time_s,power_w,right_pct,cadence_rpm"]
    rows += [f"{i},{200 + (i % 7)},47,90" for i in t]
    path.write_text("\n".join(rows) + "\n")
    code, text = run("analyze", str(path))
    assert code == 0
    assert "L 53.0 %  R 47.0 %" in text


def test_scan_lists_devices_with_their_manufacturer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from tests.ant.receiver_kit import wait_for
    from tests.usbstick.backend import SimulatedStick

    stick = SimulatedStick().install(monkeypatch)
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(run, "scan", "--seconds", "0.5")
        assert wait_for(lambda: stick.scanning)
        for event in range(3):
            page = bytes([0x10, event, 0xB2, 90, 0, 0, 250, 0])
            stick.queue_broadcast(11, 0x1234, page, tt=0x05)
        stick.queue_broadcast(
            11, 0x1234, bytes.fromhex("50 FF FF 01 20 01 0A 00"), tt=5
        )
        stick.queue_broadcast(120, 0x00A7, bytes.fromhex("04 00 00 00 00 08 06 8D"))
        code, text = future.result(timeout=10)
    assert code == 0
    lines = text.splitlines()
    pedals = next(x for x in lines if x.startswith("bicycle_power"))
    assert "Manufacturer 288" in pedals  # not a brand RideBalance lists
    assert any(x.startswith("heart_rate") for x in lines)


def test_scan_json_names_each_device_with_its_identity(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from tests.ant.receiver_kit import wait_for
    from tests.usbstick.backend import SimulatedStick

    stick = SimulatedStick().install(monkeypatch)
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(run, "scan", "--seconds", "0.5", "--json")
        assert wait_for(lambda: stick.scanning)
        for event in range(3):
            page = bytes([0x10, event, 0xB2, 90, 0, 0, 250, 0])
            stick.queue_broadcast(11, 0x1234, page, tt=0x05)
        # Common page 0x51: software 2, serial 0x12345678 (no 0x50 heard).
        stick.queue_broadcast(
            11, 0x1234, bytes.fromhex("51 FF FF 02 78 56 34 12"), tt=5
        )
        code, text = future.result(timeout=10)
    assert code == 0
    (pedals,) = json.loads(text)
    assert pedals["device_type"] == 11
    assert pedals["device_number"] & 0xFFFF == 0x1234
    assert pedals["pages"] >= 4
    assert "serial 305419896" in pedals["description"]
    assert "manufacturer" not in pedals["description"]


def test_scan_without_stick_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.usbstick.backend import SimulatedStick

    stick = SimulatedStick().install(monkeypatch)
    stick.unplug()
    assert run("scan", "--seconds", "0.2", "--json")[0] == 1
    assert "ANT+ stick" in capsys.readouterr().err


def test_analyze_csv_without_balance_or_head_unit(tmp_path: Path) -> None:
    path = tmp_path / "erg.csv"
    rows = ["time_s,power_w,cadence_rpm"]
    rows += [f"{i},{180 + (i % 5)},{88 + (i % 3)}" for i in range(900)]
    path.write_text("\n".join(rows) + "\n")
    code, text = run("analyze", str(path), "--outdoor", "--ftp", "250")
    assert code == 0
    assert "Balance     not recorded" in text
    assert "outdoor" in text
    code, text = run("analyze", str(path), "--json")
    doc = json.loads(text)
    assert doc["head_unit"] is None
    assert doc["figures"]["balance_left_pct"] is None
    assert doc["ride"]["indoor"] is None


def test_analyze_truncated_ride_on_request(shared_fit: Path, tmp_path: Path) -> None:
    data = (shared_fit / "edge810-vector-pedals.fit").read_bytes()
    cut = tmp_path / "cut.fit"
    cut.write_bytes(data[: len(data) // 3])
    assert run("analyze", str(cut))[0] == 1
    code, text = run("analyze", str(cut), "--allow-truncated")
    assert code == 0
    assert "Warning: cut.fit is truncated" in text
    doc = json.loads(run("analyze", str(cut), "--allow-truncated", "--json")[1])
    assert "truncated" in doc["warnings"][0]


def test_side_unknown_json_warns(shared_fit: Path) -> None:
    doc = json.loads(
        run("analyze", str(shared_fit / "wahoo-bolt-short.fit"), "--json")[1]
    )
    assert doc["ride"]["balance_side"] == "unknown"
    assert doc["figures"]["balance_left_pct"] is None
    assert any("side unknown" in w for w in doc["warnings"])


def test_plot_into_missing_folder_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv_path = ride_csv(tmp_path / "ride.csv", Rider(), seed=5)
    code, _ = run("analyze", str(csv_path), "--plot", str(tmp_path / "no" / "p.png"))
    assert code == 1
    assert "No such file or directory" in capsys.readouterr().err
    code, text = run("analyze", str(csv_path), "--plot", str(tmp_path / "p.png"))
    assert code == 0
    assert f"Plot written to {tmp_path / 'p.png'}" in text


def test_decode_several_pages_as_lines() -> None:
    code, text = run(
        "decode", "hr", "04 00 00 00 00 08 06 8D", "04:00:00:00:00:0C:07:8E", "--json"
    )
    assert code == 0
    pages = json.loads(text)
    assert [p["page"] for p in pages] == [pages[0]["page"]] * 2
    code, text = run("decode", "120", "04 00 00 00 00 08 06 8D")
    assert code == 0
    assert text.count("\n") == 1
    assert "=" in text


def test_decode_with_device_type_prints_json() -> None:
    """The documented form: --device-type 11 and the page bytes give JSON."""
    code, text = run("decode", "--device-type", "11", "10B2583412FA0000")
    assert code == 0
    doc = json.loads(text)
    # b1 B2 = event 178; b2 58 = 88 % of an unknown side (bit 7 clear);
    # b3 34 = 52 rpm; b4-5 12 FA = 64018 W accumulated; b6-7 = 0 W now.
    assert doc["event_count"] == 178
    assert doc["right_pct"] is None
    assert doc["unknown_side_pct"] == 88
    assert doc["cadence_rpm"] == 52
    assert doc["accumulated_power_w"] == 64018
    assert doc["instantaneous_power_w"] == 0


def test_decode_without_a_device_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("decode", "10B2583412FA0000")[0] == 1
    assert "device type" in capsys.readouterr().err
    assert run("decode", "toaster", "00")[0] == 1


def test_baseline_rides_set_the_usual_balance(tmp_path: Path) -> None:
    # The demo rider always leans 4 points further left when spinning easy.
    from dataclasses import replace

    from custom_components.ridebalance.sim import demo_ride

    usual = replace(demo_ride(), shifts=(), cadence_sags=())
    baseline = tmp_path / "usual.csv"
    with baseline.open("w", encoding="utf-8", newline="") as handle:
        write_csv(handle, generate(usual, seed=7, hz=1.0))
    today = tmp_path / "today.csv"
    assert run("simulate", "--hz", "1", "--output", str(today))[0] == 0

    def easy_usual(*extra: str) -> float | None:
        doc = json.loads(run("analyze", str(today), "--json", *extra)[1])
        (band,) = (
            b for b in doc["analysis"]["power_bands"] if b["label"] == "100-150 W"
        )
        usual: float | None = band["baseline_left_pct"]
        return usual

    assert easy_usual() is None
    learnt = easy_usual("--baseline", str(baseline))
    assert learnt is not None
    assert 53.0 < learnt < 55.0
    text = run("analyze", str(today))[1]
    assert "50/50 is assumed" in text
    assert (
        "50/50 is assumed"
        not in run("analyze", str(today), "--baseline", str(baseline))[1]
    )
