"""The balance engine: is the rider drifting from THEIR normal at this effort?

Plain Python + numpy, no Home Assistant imports. One engine, two ways in:

* live, sample by sample (the coordinator)::

      analyzer = StreamingAnalyzer(settings, baseline=baselines.get("indoor"))
      for sample in stream:
          for change in analyzer.push(sample):   # episode started / ended
              ...
          metrics = analyzer.snapshot()          # at most 1 Hz
      analyzer.update_settings(new_settings)     # UI knobs, from the next block
      summary = analyzer.finish()
      baselines.learn("indoor", summary)
      store(baselines.to_dict(), summary.to_dict())

* whole rides at once (the CLI, imported FIT files)::

      summary = analyze(ride_arrays, settings, baseline)

Both give the same episodes and the same summary numbers on the same data
(normalized power to ~1e-12, being summed in a different order).

Balance is the LEFT share in % throughout. Cleaning drops balance, TE and PS while
coasting (cadence 0 or power under the floor) and out-of-range values, and counts
why (:class:`DropCounts`). Detectors work on 10-second block means against the
rider's :class:`Baseline` at the current power band, see :mod:`.detectors`.
"""

from .baseline import BASELINE_VERSION, Baseline, Baselines, Expectation
from .batch import analyze, build_baseline
from .results import (
    SUMMARY_VERSION,
    BandSummary,
    BlockStats,
    DropCounts,
    Episode,
    EpisodeChange,
    EpisodeEdge,
    EpisodeKind,
    LiveMetrics,
    SessionSummary,
)
from .settings import AnalysisSettings, band_labels
from .streaming import StreamingAnalyzer

__all__ = [
    "BASELINE_VERSION",
    "SUMMARY_VERSION",
    "AnalysisSettings",
    "BandSummary",
    "Baseline",
    "Baselines",
    "BlockStats",
    "DropCounts",
    "Episode",
    "EpisodeChange",
    "EpisodeEdge",
    "EpisodeKind",
    "Expectation",
    "LiveMetrics",
    "SessionSummary",
    "StreamingAnalyzer",
    "analyze",
    "band_labels",
    "build_baseline",
]
