"""A/B tests of detectors inside the simulation (docs/abtests.md).

:mod:`.stats` (per-transaction ratios clustered by card, differences, the plan), :mod:`.world`
(two detectors in one world and what the test sees), :mod:`.run` (the test's variants and their
truth in one replication), :mod:`.summary` (the verdict over replications).
"""
