"""Reading the rides given on the command line: the progress bar."""

from __future__ import annotations

import io

from custom_components.ridebalance.cli import Progress


def test_progress_bar_draws_on_request() -> None:
    stream = io.StringIO()
    bar = Progress(2, enabled=True, stream=stream)
    bar.step("a.fit")
    bar.step("b.fit")
    drawn = stream.getvalue()
    assert "1/2 a.fit" in drawn
    assert drawn.endswith("\n")
    assert "[" + "#" * 24 + "]" in drawn
    quiet = io.StringIO()
    Progress(1, enabled=False, stream=quiet).step("a.fit")
    assert quiet.getvalue() == ""
