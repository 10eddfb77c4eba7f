"""How the rider moves, in ``analyze`` and ``compare`` (tables, JSON, plain words).

The figures come from :mod:`..analysis.dynamics` (via ``rides.analyze``); this
module only lays them out and, for ``compare``, says in words what differs
between indoor and outdoor riding. Thresholds for "the same" are the pedals'
resolution: 1 mm of PCO, 3° of power phase (two binary-degree steps), a fifth
more or less for how often the rider stands.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict
import statistics
from typing import Any

from ..analysis.dynamics import DynamicsDrift, DynamicsFigures, PhaseFigures
from ..angles import angle_change_deg
from ..rides.dynamics import DynamicsSummary
from .render import hms, num
from .rides import Analysis

SAME_PCO_MM = 1.0
SAME_ANGLE_DEG = 3.0
SAME_RATIO = 1.2
TIMES = " \u00d7"  # the multiplication sign, as in "3.0 times as often"


# --- analyze -----------------------------------------------------------------------


def dynamics_json(result: Analysis) -> dict[str, Any]:
    """The ``dynamics`` and ``head_unit_dynamics`` keys of ``analyze --json``."""
    dynamics = result.ride.dynamics
    session = None if dynamics is None else dynamics.session
    return {
        "dynamics": None if result.dynamics is None else result.dynamics.to_dict(),
        "head_unit_dynamics": None if session is None else asdict(session),
    }


def _phase(phase: PhaseFigures | None) -> str:
    if phase is None:
        return "-"
    return f"{phase.start_deg:.0f}°-{phase.end_deg:.0f}° (arc {phase.arc_deg:.0f}°)"


def _pair(phase: tuple[float, float] | None) -> str:
    return "-" if phase is None else f"{phase[0]:.0f}°-{phase[1]:.0f}°"


def _beside(ours: str, theirs: str | None) -> list[str]:
    """Our figure, and the head unit's own on the line below when it wrote one."""
    return [ours] if theirs is None else [ours, f"{'':12}head unit: {theirs}"]


def _position_line(f: DynamicsFigures) -> str:
    return (
        f"seated {hms(f.seated_s)}, standing {hms(f.standing_s)} "
        f"({num(f.standing_pct, '.1f', ' %')}), {f.stand_count} stands "
        f"({num(f.stands_per_hour, '.1f')} an hour)"
    )


def _head_unit(hu: DynamicsSummary | None) -> tuple[str | None, ...]:
    """The head unit's position, PCO and phase figures, where it wrote them."""
    if hu is None:
        return None, None, None
    position = None
    if hu.time_standing_s is not None:
        position = f"standing {hms(hu.time_standing_s)}, {hu.stand_count} stands"
    pco = None
    if hu.pco_left_mm is not None or hu.pco_right_mm is not None:
        pco = (
            f"L {num(hu.pco_left_mm, '+.0f', ' mm')}  "
            f"R {num(hu.pco_right_mm, '+.0f', ' mm')}"
        )
    phase = None
    if hu.phase_left is not None or hu.phase_right is not None:
        phase = f"L {_pair(hu.phase_left)}  R {_pair(hu.phase_right)}"
    return position, pco, phase


_FIGURE_WORDS = {
    "standing_pct": "time standing",
    "pco_left_mm": "left PCO",
    "pco_right_mm": "right PCO",
    "phase_left_start_deg": "left power phase start",
    "phase_left_end_deg": "left power phase end",
    "phase_right_start_deg": "right power phase start",
    "phase_right_end_deg": "right power phase end",
}


def _unit(figure: str, *, change: bool = True) -> str:
    suffix = figure.rsplit("_", 1)[1]
    if suffix == "pct":
        return " points" if change else " %"
    return {"mm": " mm", "deg": "°"}[suffix]


def render_dynamics(result: Analysis) -> list[str]:
    """The cycling-dynamics part of the ``analyze`` report (empty without them)."""
    report = result.dynamics
    if report is None:
        return []
    f = report.ride
    dynamics = result.ride.dynamics
    hu = None if dynamics is None else dynamics.session
    lines = ["", "Cycling dynamics (pedals' own measurement)"]
    position, pco, phase = _head_unit(hu)
    lines += _beside(f"Position    {_position_line(f)}", position)
    lines += _beside(
        f"PCO         L {num(f.pco_left_mm, '+.1f', ' mm')}  "
        f"R {num(f.pco_right_mm, '+.1f', ' mm')}",
        pco,
    )
    lines += _beside(
        f"Power phase L {_phase(f.phase_left)}  R {_phase(f.phase_right)}", phase
    )
    lines.append(f"Peak phase  L {_phase(f.peak_left)}  R {_phase(f.peak_right)}")
    lines.append(
        f"Balance     seated L {num(f.balance_seated_left_pct, '.1f', ' %')}, "
        f"standing L {num(f.balance_standing_left_pct, '.1f', ' %')}"
    )
    lines.append("")
    lines.append("Dynamics by power band")
    lines.append(
        f"  {'band':<12}{'seated':>9}{'standing':>9}{'stands':>7}{'PCO L':>7}"
        f"{'PCO R':>7}{'phase L':>10}{'phase R':>10}{'L% seat':>8}{'L% stand':>9}"
    )
    for label, band in report.bands.items():
        lines.append(
            f"  {label:<12}{hms(band.seated_s):>9}{hms(band.standing_s):>9}"
            f"{band.stand_count:>7}{num(band.pco_left_mm, '+.1f'):>7}"
            f"{num(band.pco_right_mm, '+.1f'):>7}"
            f"{_short(band.phase_left):>10}{_short(band.phase_right):>10}"
            f"{num(band.balance_seated_left_pct, '.1f'):>8}"
            f"{num(band.balance_standing_left_pct, '.1f'):>9}"
        )
    for drift in report.drifts:
        lines.append(
            f"Drift: {_FIGURE_WORDS[drift.figure]} "
            f"{num(drift.change, '+.1f', _unit(drift.figure))} from "
            f"{hms(drift.onset_s)} against the first 15 minutes "
            f"({num(drift.reference, '.1f', _unit(drift.figure, change=False))})"
        )
    return lines


def _short(phase: PhaseFigures | None) -> str:
    return "-" if phase is None else f"{phase.start_deg:.0f}-{phase.end_deg:.0f}"


# --- compare -----------------------------------------------------------------------


def _stands(indoor: DynamicsFigures, outdoor: DynamicsFigures) -> str | None:
    a, b = indoor.stands_per_hour, outdoor.stands_per_hour
    if a is None or b is None:
        return None
    rates = f"({b:.1f} vs {a:.1f} stands an hour"
    time = (
        f"; {num(outdoor.standing_pct, '.0f')} % vs "
        f"{num(indoor.standing_pct, '.0f')} % of the time standing)"
    )
    if a == 0 and b == 0:
        return "you stay seated indoors and outdoors"
    if a == 0:
        return f"outdoors you stand {b:.1f} times an hour; indoors you stay seated"
    ratio = b / a
    if ratio >= SAME_RATIO:
        return f"outdoors you stand {ratio:.1f}{TIMES} as often {rates}{time}"
    if ratio <= 1 / SAME_RATIO:
        return f"outdoors you stand {1 / ratio:.1f}{TIMES} less often {rates}{time}"
    return f"you stand about as often indoors and outdoors {rates}{time}"


def _pco(side: str, indoor: float | None, outdoor: float | None) -> str | None:
    if indoor is None or outdoor is None:
        return None
    d = outdoor - indoor
    values = f"({outdoor:+.1f} vs {indoor:+.1f} mm)"
    if abs(d) < SAME_PCO_MM:
        return f"your {side} PCO is the same indoors and outdoors {values}"
    way = "outwards" if d > 0 else "inwards"
    return f"outdoors your {side} foot presses {abs(d):.0f} mm further {way} {values}"


def _power_phase(
    side: str, indoor: PhaseFigures | None, outdoor: PhaseFigures | None
) -> str | None:
    if indoor is None or outdoor is None:
        return None
    start = angle_change_deg(indoor.start_deg, outdoor.start_deg)
    end = angle_change_deg(indoor.end_deg, outdoor.end_deg)
    arcs = f"(arc {outdoor.arc_deg:.0f}° vs {indoor.arc_deg:.0f}°)"
    if abs(start) < SAME_ANGLE_DEG and abs(end) < SAME_ANGLE_DEG:
        return f"your {side} power phase is the same indoors and outdoors {arcs}"

    def turn(change: float) -> str:
        if abs(change) < SAME_ANGLE_DEG:
            return "at the same angle"
        return f"{abs(change):.0f}° {'later' if change > 0 else 'earlier'}"

    return (
        f"outdoors your {side} power phase starts {turn(start)} and ends "
        f"{turn(end)} {arcs}"
    )


def _standing_balance(side_name: str, f: DynamicsFigures) -> str | None:
    seated, standing = f.balance_seated_left_pct, f.balance_standing_left_pct
    if seated is None or standing is None:
        return None
    d = standing - seated
    leg = "left" if d > 0 else "right"
    return (
        f"{side_name}, standing puts {abs(d):.1f} points more on your {leg} leg "
        f"than seated (L {standing:.1f} % vs {seated:.1f} %)"
    )


def _drift_words(side: str, figure: str, drifts: list[DynamicsDrift], of: int) -> str:
    change = statistics.fmean(d.change for d in drifts)
    onset = statistics.median(d.onset_s for d in drifts) / 60
    count = f"({len(drifts)} of {of} {side} rides)"
    when = f"after {onset:.0f} minutes"
    if figure.startswith("pco_"):
        way = "outwards" if change > 0 else "inwards"
        what = f"your {figure[4:-3]} PCO moves {abs(change):.0f} mm {way}"
    elif figure == "standing_pct":
        more = "more" if change > 0 else "less"
        what = f"you stand {abs(change):.0f} points {more} of the time"
    else:
        words = _FIGURE_WORDS[figure].rsplit(" ", 1)
        way = "later" if change > 0 else "earlier"
        verb = "starts" if words[1] == "start" else "ends"
        what = f"your {words[0]} {verb} {abs(change):.0f}° {way}"
    return f"{side}s {what} {when} {count}"


def compare_dynamics(
    indoor: Sequence[Analysis], outdoor: Sequence[Analysis], pooled: dict[str, Any]
) -> dict[str, Any] | None:
    """The ``dynamics`` key of ``compare --json`` (None when neither side has any).

    ``pooled`` maps "indoor"/"outdoor" to each side's pooled report (or None).
    """
    if pooled["indoor"] is None and pooled["outdoor"] is None:
        return None
    sentences: list[str] = []
    a, b = pooled["indoor"], pooled["outdoor"]
    if a is not None and b is not None:
        fi, fo = a.ride, b.ride
        candidates = [
            _stands(fi, fo),
            _pco("left", fi.pco_left_mm, fo.pco_left_mm),
            _pco("right", fi.pco_right_mm, fo.pco_right_mm),
            _power_phase("left", fi.phase_left, fo.phase_left),
            _power_phase("right", fi.phase_right, fo.phase_right),
            _standing_balance("Indoors", fi),
            _standing_balance("Outdoors", fo),
        ]
        sentences += [s for s in candidates if s is not None]
    else:
        missing = "indoor" if a is None else "outdoor"
        sentences.append(f"the {missing} rides carry no cycling dynamics to compare")
    for side, results in (("indoor", indoor), ("outdoor", outdoor)):
        measured = [r.dynamics for r in results if r.dynamics is not None]
        by_figure: dict[str, list[DynamicsDrift]] = {}
        for report in measured:
            for drift in report.drifts:
                by_figure.setdefault(drift.figure, []).append(drift)
        for figure, drifts in by_figure.items():
            sentences.append(_drift_words(side, figure, drifts, len(measured)))
    return {
        "indoor": None if a is None else a.to_dict(),
        "outdoor": None if b is None else b.to_dict(),
        "drifts": {
            side: [
                {"file": str(r.path), **asdict(d)}
                for r in results
                if r.dynamics is not None
                for d in r.dynamics.drifts
            ]
            for side, results in (("indoor", indoor), ("outdoor", outdoor))
        },
        "in_words": [s[0].upper() + s[1:] for s in sentences],
    }


def render_dynamics_comparison(doc: dict[str, Any] | None) -> list[str]:
    """The cycling-dynamics part of the ``compare`` report."""
    if doc is None:
        return []
    lines = ["", "How you move (cycling dynamics), indoor against outdoor"]
    lines.append(f"  {'':<22}{'indoor':>22}{'outdoor':>22}")
    rows: tuple[tuple[str, Callable[[dict[str, Any]], str]], ...] = (
        ("standing", lambda r: f"{num(r['standing_pct'], '.1f')} %"),
        ("stands an hour", lambda r: num(r["stands_per_hour"], ".1f")),
        ("PCO left / right", _mm_pair),
        ("phase left", lambda r: _dict_phase(r["phase_left"])),
        ("phase right", lambda r: _dict_phase(r["phase_right"])),
    )
    for label, cell in rows:
        values = [
            "-" if doc[side] is None else cell(doc[side]["ride"])
            for side in ("indoor", "outdoor")
        ]
        lines.append(f"  {label:<22}{values[0]:>22}{values[1]:>22}")
    lines.append("")
    lines += [f"- {sentence}." for sentence in doc["in_words"]]
    return lines


def _mm_pair(row: dict[str, Any]) -> str:
    return f"{num(row['pco_left_mm'], '+.1f')} / {num(row['pco_right_mm'], '+.1f')} mm"


def _dict_phase(phase: dict[str, float] | None) -> str:
    if phase is None:
        return "-"
    return f"{phase['start_deg']:.0f}°-{phase['end_deg']:.0f}°"
