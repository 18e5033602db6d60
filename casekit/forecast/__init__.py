"""Early warning: what a forecaster could have known at each moment of a storm (issue #10).

:func:`replay` runs a rolling-origin replay. At each origin tau (hourly, daily or a given
list) it fits only the data known at tau and forecasts the final size with an interval:
a growth curve (:mod:`casekit.reach`) on aggregated readings, or a Hawkes process
(:mod:`casekit.events.hawkes`) on event times. It reports the first tau at which the
forecast's lower bound reaches a threshold, next to the spike rules' first alert
(:data:`casekit.response.DEFAULT_RULES`) and the company's actual response, and scores
every forecast against the final observed value. The answer is a :class:`Replay`.

Examples
--------
>>> import casekit as ck
>>> r = ck.forecast.replay(ck.load_case("synthetic-example"), 50_000, metric="forum_posts")
>>> r.spike_alert_time, r.response_time
(Timestamp('2024-03-06 00:00:00'), Timestamp('2024-03-08 00:00:00'))
"""

from __future__ import annotations

from casekit.forecast.result import TABLE_COLUMNS, Replay
from casekit.forecast.rolling import NO_FIT, OK, TOO_FEW, UNBOUNDED, replay

__all__ = ["replay", "Replay", "TABLE_COLUMNS", "OK", "TOO_FEW", "NO_FIT", "UNBOUNDED"]
