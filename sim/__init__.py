"""fraudsim: a discrete-event simulator of card fraud under adaptive fraudsters and delayed labels.

The public API (docs/python.md)::

    import sim
    scenario = sim.load("scenarios/quickstart.toml", overrides={"horizon": "30d"})
    result = sim.run(scenario, replications=4, workers=2)
    result.ranking, result.differences, result.findings, result.figure("cost_split")
    result.save("reports/my-run")   # what `fraudsim run` writes
    sweep = sim.sweep("scenarios/sweeps/label_delay.toml", workers=2)
    rep = sim.replay(frame_or_path, time="ts", label="is_fraud", delay="7d", amount="amount")
    mine = sim.run(scenario, arms=[sim.arms.Batch("my-hgb", model=HistGradientBoostingClassifier(), every="1d"),
                                   sim.arms.Static()])   # your own model in the arena (docs/own-model.md)
    sim.check_learner(HistGradientBoostingClassifier())  # the contract the bundled learners pass

Every other module is internal. The names load on first use, so ``import sim`` stays light.
"""

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("fraudsim")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

_EXPORTS = {
    "load": "sim.api.results",
    "run": "sim.api.results",
    "with_overrides": "sim.api.results",
    "Result": "sim.api.results",
    "sweep": "sim.api.sweeps",
    "SweepResult": "sim.api.sweeps",
    "replay": "sim.api.replays",
    "ReplayResult": "sim.api.replays",
    "ScenarioError": "sim.scenario.errors",
    "ReplayError": "sim.replays.stream",
    "ExecutorError": "sim.executors.base",
    "check_learner": "sim.api.checks",
    "LearnerCheck": "sim.api.checks",
    "Finding": "sim.report.findings",
}
_MODULES = {"arms"}  # public submodules, imported on first use

__all__ = sorted([*_EXPORTS, *_MODULES])


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    if name in _MODULES:
        return import_module(f"sim.{name}")
    raise AttributeError(f"module 'sim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
