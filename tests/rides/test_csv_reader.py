"""CSV rides: the documented columns, and errors that name the line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from custom_components.ridebalance.rides import CsvFormatError, read_csv_text, read_ride


def test_columns_any_order_extra_ignored(tmp_path: Path) -> None:
    path = tmp_path / "trainer.csv"
    path.write_text(
        "speed_kmh,power_w,time_s,right_pct,cadence_rpm,heart_rate_bpm,te_left_pct\n"
        "30,200,10,48,90,140,80.5\n"
        "30,,11,,91,141,\n"
        "31,210,12,47,,142,79\n"
    )
    ride = read_ride(path, indoor=True)
    assert ride.file_format == "csv"
    assert ride.indoor is True
    assert ride.balance_side == "right"
    assert ride.t_s.tolist() == [0.0, 1.0, 2.0]
    assert ride.left_pct[0] == 52.0
    assert np.isnan(ride.left_pct[1])
    assert np.isnan(ride.power_w[1])
    assert ride.power_w[2] == 210
    assert np.isnan(ride.cadence_rpm[2])
    assert ride.te_left_pct[0] == 80.5
    assert np.isnan(ride.te_right_pct).all()


def test_left_and_right_must_agree() -> None:
    ride = read_csv_text("time_s,left_pct,right_pct\n0,52,48\n1,,47\n")
    assert ride.left_pct.tolist() == [52.0, 53.0]
    with pytest.raises(CsvFormatError, match=r"line 3: .*do not add up"):
        read_csv_text("time_s,left_pct,right_pct\n0,52,48\n1,52,52\n")


def test_ride_without_balance_column() -> None:
    ride = read_csv_text("time_s,power_w\n0,100\n1,120\n")
    assert ride.balance_side is None
    assert not ride.has_balance
    assert ride.has_power


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "line 1: the file is empty"),
        ("power_w,left_pct\n200,50\n", "line 1: .*no time_s column.*2 other"),
        ("time_s,power_w\n", "line 2: no data rows"),
        ("time_s,power_w\n0,200\n1,abc\n", "line 3: power_w is not a number"),
        ("time_s,power_w\n0,200\n\n2,nan\n", "line 4: .*not a finite"),
        ("time_s,left_pct\n0,50\n1,150\n", "line 3: left_pct is 150"),
        ("time_s,power_w\n0,-5\n", "line 2: power_w is -5, negative"),
        ("time_s,power_w\n5,100\n4,100\n", "line 3: time_s goes backwards"),
        ("time_s,power_w\n0,100\n,100\n", "line 3: time_s is empty"),
    ],
)
def test_errors_name_the_line(text: str, message: str) -> None:
    with pytest.raises(CsvFormatError, match=message):
        read_csv_text(text)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "ride.csv"
    path.write_bytes(b"time_s\n\xff\xfe\n")
    with pytest.raises(CsvFormatError, match="not UTF-8"):
        read_ride(path)


def test_a_cell_over_the_parser_limit_is_a_line_error(tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    path.write_text("time_s,power_w\n0,200\n1,210\n2," + "9" * 200_000 + "\n")
    with pytest.raises(CsvFormatError) as info:
        read_ride(path)
    message = str(info.value)
    assert message.startswith("line 4: a cell is longer than")
    assert "\n" not in message
    assert len(message) < 100


def test_an_unterminated_quote_is_a_short_line_error() -> None:
    rows = "".join(f"{i},200\n" for i in range(1, 3000))
    with pytest.raises(CsvFormatError) as info:
        read_csv_text('time_s,power_w\n0,"200\n' + rows)
    assert str(info.value) == "line 2: a quote is never closed"


def test_errors_never_quote_the_files_text() -> None:
    for text in (
        'time_s,power_w\n0,"secret\n' + "x" * 5000 + '"\n',
        "root:x:0:0:root:/root:/bin/bash\n",
    ):
        with pytest.raises(CsvFormatError) as info:
            read_csv_text(text)
        message = str(info.value)
        assert "secret" not in message
        assert "root" not in message
        assert "\n" not in message


def test_the_same_content_is_the_same_ride(tmp_path: Path) -> None:
    text = "time_s,power_w,left_pct\n0,200,49\n1,210,50\n"
    (tmp_path / "a.csv").write_text(text)
    (tmp_path / "b.csv").write_text(text)
    (tmp_path / "c.csv").write_text(text + "2,220,51\n")
    ids = [read_ride(tmp_path / f"{n}.csv").ride_id for n in "abc"]
    assert ids[0] is not None
    assert ids[0] == ids[1] != ids[2]
