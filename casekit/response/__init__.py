"""The cost of a slow response: delays, detection replay, reach while waiting, the
counterfactual delay-cost curve, money lenses and the severity label.

Every function takes a :class:`~casekit.cases.Case` or a reach fit
(:class:`casekit.reach.ReachFit`) and returns an immutable
:class:`~casekit.results.Result` with ``params`` (estimates), ``settings`` (the call's
arguments and assumptions), ``table``, ``summary`` (a DataFrame), the prose as
``str(result)``, ``conf_int(alpha)`` where it carries intervals, ``plot()`` and
``to_dict()``. Unknown dates stay unknown: a delay whose end points are not both known
is reported as not computable, with the reason, and never guessed. The analyses of a
fit take the case's dates from the fit itself (``fit.context``); nothing is read again
from disk.

Overview
--------
=========================== ===============================================================
:func:`delays`              incident -> complaint -> going public -> response -> resolution
:func:`detection_replay`    when documented spike rules would have fired on the reach data
:func:`reach_while_waiting` reach accrued before and after the first response, with intervals
:func:`delay_cost`          final reach had the first response come d days after going public
:func:`sensitivity`         tornado of the cost of the delay over effectiveness, CPM and curve
:func:`money_lenses`        four separate money lenses, side by side, never summed
:func:`severity`            Shitstorm-scale level (0-6) over time, beside the response date
=========================== ===============================================================

Modules: :mod:`~casekit.response.delays`, :mod:`~casekit.response.detection`,
:mod:`~casekit.response.waiting`, :mod:`~casekit.response.counterfactual` (the damped
curve over parameter draws, :func:`what_if`), :mod:`~casekit.response.cost`
(:func:`delay_cost`), :mod:`~casekit.response.sensitivity`,
:mod:`~casekit.response.money` and :mod:`~casekit.response.severity`.

References
----------
The keys are those of the project's research notes (``methods.md`` §6); the code and
its assumption texts cite them by key.

[L1] Twitter and Applied Marketing Science (2015).
     *Customer service interactions on Twitter boost consumer spending* (airline study:
     600 k+ service tweets, 1,156 users surveyed; stated preference, platform-sponsored).
     Twitter Marketing insights,
     https://marketing.twitter.com/emea/en_gb/insights/customer-service-interactions-on-twitter-boost-consumer-spending.html
[L2] Twitter (2016).
     *Study: Twitter customer care increases willingness to pay across industries*
     (cross-industry follow-up). Twitter blog,
     https://blog.x.com/en_us/a/2016/study-twitter-customer-care-increases-willingness-to-pay-across-industries
[L5] Herhausen, D., Ludwig, S., Grewal, D., Wulf, J. & Schoegel, M. (2019). Detecting,
     preventing, and mitigating online firestorms in brand communities. *Journal of
     Marketing* 83(3), 1-21. Empathy and apology, or a change of channel, reduce the
     virality of a firestorm; compensation alone "fuels the fire".
[L7] Graf, D. & Schwede, B. (2012). *Shitstorm-Skala*: a Beaufort-style severity scale
     (0-6) from case experience, published online; see
     https://marketing-wiki.ch/content/shitstorm
[S1a] Meltwater. *Understanding Alert Types* (spike detection: social = last hour vs the
      previous 12 h; editorial = one day vs the previous 14 days). Meltwater Community,
      https://community.meltwater.com/alerts-205/understanding-alert-types-8057
[S6a] Socialmetrix. *Variation alerts* (24-h mean > 7-day mean + k SD, k = 1.5 / 2 / 3,
      checked hourly). Socialmetrix support,
      https://socialmetrix.freshdesk.com/support/solutions/articles/1000143951-variation-alerts

Examples
--------
>>> import casekit as ck
>>> case = ck.load_case("synthetic-example")
>>> d = ck.response.delays(case)
>>> d.days("going_public_to_first_response")
4.0
>>> ck.response.severity(case).level
4
"""

from __future__ import annotations

from casekit.response._common import DAY, DEFAULT_CPM  # noqa: F401  (DAY: importable as before)
from casekit.response.cost import DEFAULT_DELAYS, DELAY_COST_COLUMNS, DelayCost, delay_cost
from casekit.response.counterfactual import (
    BANDS,  # noqa: F401
    DEFAULT_EFFECTIVENESS,
    EFFECTIVENESS_NOTE,  # noqa: F401
    EFFECTIVENESS_RANGE,
    MODELS,
    what_if,
)
from casekit.response.delays import DELAY_DEFINITIONS, Delays, delays
from casekit.response.detection import (
    DEFAULT_RULES,
    Detection,
    SpikeRule,
    _metric_counts,  # noqa: F401  (used by the tests)
    detection_replay,
    replay_rules,
)
from casekit.response.money import MONEY_COLUMNS, WTP_FIGURES, MoneyLenses, money_lenses, wtp_uplift
from casekit.response.sensitivity import MAX_DELTA_AICC, Sensitivity, sensitivity
from casekit.response.severity import (
    REACH_UNITS,
    SEVERITY_LEVELS,
    SEVERITY_THRESHOLDS,
    Severity,
    level_from_indicators,
    severity,
)
from casekit.response.waiting import WaitingReach, reach_while_waiting

__all__ = [
    "Delays",
    "Detection",
    "SpikeRule",
    "DEFAULT_RULES",
    "WaitingReach",
    "DelayCost",
    "Sensitivity",
    "MoneyLenses",
    "Severity",
    "DELAY_DEFINITIONS",
    "DEFAULT_EFFECTIVENESS",
    "EFFECTIVENESS_RANGE",
    "DEFAULT_CPM",
    "WTP_FIGURES",
    "SEVERITY_LEVELS",
    "delays",
    "detection_replay",
    "replay_rules",
    "reach_while_waiting",
    "delay_cost",
    "sensitivity",
    "MAX_DELTA_AICC",
    "what_if",
    "money_lenses",
    "severity",
    "wtp_uplift",
    "level_from_indicators",
    "DEFAULT_DELAYS",
    "DELAY_COST_COLUMNS",
    "MONEY_COLUMNS",
    "MODELS",
    "REACH_UNITS",
    "SEVERITY_THRESHOLDS",
]
