"""The learners a scenario's arms can name: every class registered under the ``fraudsim.learners``
entry point group, fraudsim's own among them (pyproject.toml), and a package's beside them
(docs/own-model.md). A class is an arm's schema: its ``learner`` tag is the entry point's name
and its fields are the arm's keys. Loading never runs code a scenario file names: the file only
picks, by name, among what the installed packages registered.
"""

from __future__ import annotations

import typing
from importlib.metadata import entry_points

GROUP = "fraudsim.learners"


def registered(bundled: dict[str, type], base: type) -> tuple[dict[str, type], dict[str, str]]:
    """Every registered learner's arm class (a subclass of ``base``) by name, and why each that
    could not be loaded was not. ``bundled`` (fraudsim's own, by name) stands in for fraudsim's
    own entry points when fraudsim runs from a source tree that is not installed."""
    found = entry_points(group=GROUP)
    classes: dict[str, type] = {}
    problems: dict[str, str] = {}
    if not any(point.name in bundled and point.value.startswith("sim.") for point in found):
        classes.update(bundled)  # not installed: no metadata, so fraudsim's own by hand
    order = list(bundled)  # fraudsim's own first, in its order; then the others by name
    for point in sorted(found, key=lambda p: (order.index(p.name) if p.name in order else len(order), p.name)):
        try:
            arm_class = point.load()
        except Exception as error:  # a broken package must not break fraudsim
            problems[point.name] = f"{point.value} could not be loaded ({type(error).__name__}: {error})"
            continue
        is_arm = isinstance(arm_class, type) and issubclass(arm_class, base)
        tag = arm_class.model_fields.get("learner") if is_arm else None
        if tag is None or typing.get_args(tag.annotation) != (point.name,):
            problems[point.name] = f'{point.value} is not an arm class with learner: Literal["{point.name}"]'
            continue
        classes.setdefault(point.name, arm_class)
    return classes, problems
