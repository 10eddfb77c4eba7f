"""What ``analyze --plot`` draws: the balance the engine counts, not the raw one."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from custom_components.ridebalance.analysis import AnalysisSettings
from custom_components.ridebalance.cli.plots import balance_line
from custom_components.ridebalance.cli.rides import analyze_rides


def test_coasting_and_0_100_artefacts_stay_out_of_the_balance_line(
    tmp_path: Path,
) -> None:
    """Pedals send 100/0 while the cranks stand still (power still above the
    floor for a moment) and now and then a 0/100 split while pedalling; the
    engine drops both, and the plotted line must not lean with them."""
    rows = ["time_s,power_w,left_pct,cadence_rpm"]
    for t in range(600):
        if 200 <= t < 230:  # stopped cranks, power fading
            rows.append(f"{t},120,100,0")
        elif t % 20 == 0:  # a 0/100 split while pedalling
            rows.append(f"{t},210,0,90")
        else:
            rows.append(f"{t},200,48,90")
    path = tmp_path / "ride.csv"
    path.write_text("\n".join(rows) + "\n")
    settings = AnalysisSettings()
    (result,) = analyze_rides(path, settings, None, allow_truncated=False).rides

    clean, _ = result.ride.cleaned(settings, clock="wall")
    line = balance_line(clean)

    drawn = line[np.isfinite(line)]
    assert drawn.size > 400
    np.testing.assert_allclose(drawn, 48.0)
