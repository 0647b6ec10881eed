"""Arms × replications: run them on an executor, then summarise with intervals over replications.

Modules: :mod:`.records` (what a run records, per arm and replication), :mod:`.scheduling`
(replications, or their warm-ups, arms and A/B tests, as tasks on an executor) and
:mod:`.summaries` (the summary, with intervals and paired differences).
"""

from .records import ArmRun, Experiment, ReplicationRun
from .scheduling import executor_for, run_all, run_replication, simulated_days
from .summaries import fresh_labels, paired_differences, ratio_interval, summarize, totals

__all__ = [
    "ArmRun",
    "Experiment",
    "ReplicationRun",
    "executor_for",
    "fresh_labels",
    "paired_differences",
    "ratio_interval",
    "run_all",
    "run_replication",
    "simulated_days",
    "summarize",
    "totals",
]
