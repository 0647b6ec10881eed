"""Every kind of bad input exits with status 2 and one message naming the file and key — never a traceback."""

from __future__ import annotations

import copy
import os

import pytest
import tomli_w

from sim.cli import main
from sim.scenario import ScenarioError, load_scenario, validate

from .conftest import TINY


def _run_cli(capsys, *args) -> tuple[int, str]:
    status = main(list(args))
    captured = capsys.readouterr()
    return status, captured.out + captured.err


def _file(tmp_path, text: str | bytes, name="bad.toml"):
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _with(**changes):
    data = copy.deepcopy(TINY)
    for dotted, value in changes.items():
        node = data
        keys = dotted.split("__")
        for key in keys[:-1]:
            node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
        node[keys[-1]] = value
    return tomli_w.dumps(data)


CASES = [
    # (description, file text, expected key path in the message, words that must appear)
    ("unknown key at depth", _with(arms__1__wndow="7d"), "arms.batch.wndow", ["unknown key", "did you mean 'window'"]),
    ("unknown top-level key", _with(horizn="3d"), "horizn", ["unknown key", "allowed keys here"]),
    ("misspelt unit", _with(horizon="3 days"), "horizon", ["not a duration", "30s"]),
    ("number without unit", _with(horizon=30), "horizon", ["no unit"]),
    ("negative number", _with(population__customers=-5), "population.customers", ["greater than or equal to 1"]),
    ("non-finite number", _with(policy__fraud_fee=float("nan")), "policy.fraud_fee", ["finite number"]),
    (
        "infinite number",
        _with(population__tx_per_customer_day=float("inf")),
        "population.tx_per_customer_day",
        ["finite number"],
    ),
    ("infinite money", _with(policy__decline_fixed=float("inf")), "policy.decline_fixed", ["finite"]),
    ("history too long", _with(history="400d"), "history", ["365d"]),
    ("warm-up too long", _with(warmup="5y"), "warmup", ["3y"]),
    ("warm-up shorter than history", _with(warmup="3d"), "warmup", ["history"]),
    ("wrong type", _with(crews__0__count="many"), "crews.static.count", ["valid integer"]),
    ("wrong choice", _with(arms__0__learner="onlin"), "arms.online", ["'online'", "'batch'"]),
    (
        "bad delay table",
        _with(labels__chargeback__delay={"dist": "lognormal", "sigma": 1.0}),
        "labels.chargeback.delay",
        ["exactly one of `mean` and `median`"],
    ),
    (
        "population too large",
        _with(population__customers=10_000_000, population__tx_per_customer_day=50),
        "population",
        ["reduce customers"],
    ),
    ("tick that does not divide a day", _with(tick="7m"), "tick", ["divide one day"]),
    ("duplicate arm names", _with(arms__1__name="online"), "arms", ["unique"]),
    ("shares over one", _with(labels__chargeback__share=0.8), "labels", ["at most 1"]),
]


@pytest.mark.parametrize(("what", "text", "key", "words"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("command", ["run", "validate"])
def test_bad_scenario_exits_2_with_file_and_key(tmp_path, capsys, command, what, text, key, words):
    path = _file(tmp_path, text)
    status, output = _run_cli(
        capsys,
        command,
        str(path),
        "--quiet" if command == "run" else "--set=seed=1",
        *(["--out", str(tmp_path / "out")] if command == "run" else []),
    )
    assert status == 2
    assert "Traceback" not in output
    assert str(path) in output
    assert f": {key}:" in output
    for word in words:
        assert word in output
    assert not (tmp_path / "out").exists()


FILE_CASES = [
    ("TOML syntax error", 'name = "x"\nhorizon = [\nseed = 1\n', ["not valid TOML", "line 3"]),
    ("empty file", "   \n", ["is empty"]),
    ("binary file", b"\x00\x01\x02PK", ["binary"]),
    ("not UTF-8", b'name = "\xff\xfe"', ["not UTF-8"]),
    ("nested too deep", "a = " + "[" * 5000 + "]" * 5000, ["more than 16 levels deep"]),  # tomllib recursed
    ("nested deep but parsed", "a = " + "[" * 100 + "]" * 100, ["more than 16 levels deep"]),
    ("too large", "# " + "x" * 1_000_001, ["larger than 1000 kB"]),
]


@pytest.mark.parametrize(("what", "text", "words"), FILE_CASES, ids=[c[0] for c in FILE_CASES])
def test_unreadable_files(tmp_path, capsys, what, text, words):
    path = _file(tmp_path, text)
    status, output = _run_cli(capsys, "validate", str(path))
    assert status == 2 and "Traceback" not in output and str(path) in output
    for word in words:
        assert word in output


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a_pipe_or_device_is_refused_not_read_forever(tmp_path, capsys, kind):
    path = tmp_path / "scenario.toml"
    if kind == "fifo":
        os.mkfifo(path)  # reading it would block until a writer comes
    else:
        path.symlink_to("/dev/zero")  # reading it would never end
    for command in ("validate", "run", "sweep"):
        status, output = _run_cli(capsys, command, str(path))
        assert status == 2 and "is not a regular file" in output and str(path) in output


def test_a_deeply_nested_override_is_refused(tiny_file, capsys):
    for depth in (20, 5000):
        status, output = _run_cli(capsys, "validate", str(tiny_file), "--set", "crews.x=" + "[" * depth + "]" * depth)
        assert status == 2 and "--set crews.x" in output and "more than 16 levels deep" in output
        assert "Traceback" not in output


def test_missing_file_and_directory(tmp_path, capsys):
    status, output = _run_cli(capsys, "run", str(tmp_path / "nope.toml"))
    assert status == 2 and "no such file" in output and "nope.toml" in output
    status, output = _run_cli(capsys, "validate", str(tmp_path))
    assert status == 2 and "is a directory" in output


def test_bad_override_names_the_option(tiny_file, capsys):
    status, output = _run_cli(capsys, "validate", str(tiny_file), "--set", "arms.onlin.lr=0.1")
    assert status == 2 and "--set arms.onlin.lr" in output and "entries are: online, batch" in output
    status, output = _run_cli(capsys, "validate", str(tiny_file), "--set", "horizon")
    assert status == 2 and "key.path=value" in output
    status, output = _run_cli(capsys, "validate", str(tiny_file), "--set", "arms.online.lr=-1")
    assert status == 2 and "arms.online.lr" in output and "greater than 0" in output


def test_overrides_reach_the_scenario(tiny_file):
    scenario = load_scenario(
        tiny_file,
        [
            "horizon=2d",
            "arms.online.lr=0.2",
            "crews.static.count=5",
            "population.seasons=[{start='1d', end='2d', factor=3.0}]",
        ],
    )
    assert scenario.horizon == 2 * 86400
    assert scenario.arm("online").lr == 0.2
    assert scenario.crews[0].count == 5
    assert scenario.population.seasons[0].factor == 3.0


def test_failed_run_keeps_previous_output(tiny_file, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.json").write_text("previous")
    status, _ = _run_cli(capsys, "run", str(tiny_file), "--out", str(out), "--set", "horizon=1 day", "--quiet")
    assert status == 2
    assert (out / "summary.json").read_text() == "previous"


def test_error_object_carries_parts():
    with pytest.raises(ScenarioError) as caught:
        validate({"name": "x", "population": {"customers": 0}}, "here.toml")
    assert (caught.value.file, caught.value.key) == ("here.toml", "population.customers")


@pytest.mark.parametrize(
    "text, key",
    [
        ("[population]\ncustomers = true\n", "customers"),
        ("replications = false\n", "replications"),
        ("[policy]\nfraud_fee = true\n", "fraud_fee"),
    ],
)
def test_a_boolean_is_not_a_number(tmp_path, text, key):
    path = tmp_path / "s.toml"
    path.write_text('name = "x"\n' + text)
    with pytest.raises(ScenarioError, match=f"`{key}` must be a number, not"):
        load_scenario(path)


def _numeric_keys(model, prefix=""):
    """Every numeric key of the schema, as (dotted path, field), walking nested tables."""
    import typing

    from pydantic import BaseModel

    from sim.schema.base import _numeric

    def models(annotation):
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield annotation
        for member in typing.get_args(annotation):
            yield from models(member)

    for name, field in model.model_fields.items():
        if _numeric(field.annotation):
            yield prefix + name, field
        for member in models(field.annotation):
            yield from _numeric_keys(member, f"{prefix}{name}.")


def test_every_number_in_the_schema_has_a_finite_range():
    """The rule, not the examples: each numeric key is bounded above and below, so no value the
    schema accepts is 1e308 (features overflowed, a learning rate indexed -2^63). Durations are
    capped by their type (10 years)."""
    import annotated_types

    from sim.docgen import _constraints, _kind
    from sim.schema import Scenario

    unbounded = []
    for path, field in _numeric_keys(Scenario):
        if _kind(field).startswith("duration"):
            continue
        metas = _constraints(field)
        low = any(isinstance(m, (annotated_types.Ge, annotated_types.Gt)) for m in metas)
        high = any(isinstance(m, (annotated_types.Le, annotated_types.Lt)) for m in metas)
        if not (low and high):
            unbounded.append(path)
    assert not unbounded, unbounded
    paths = {path for path, _ in _numeric_keys(Scenario)}
    assert {"arms.lr", "crews.tactics.weight", "population.customers"} <= paths  # the walk reaches them


def test_a_scenario_too_big_for_this_machine_is_refused_with_the_estimate(tiny_file, capsys):
    """The memory estimate counts fraud too: breaches of ten million cards a day (fine for the
    honest-traffic guard) are refused at validation, naming the estimate and the limit."""
    status, output = _run_cli(
        capsys,
        "validate",
        str(tiny_file),
        "--set",
        "crews.static.breach_every=1d",
        "--set",
        "crews.static.breach_size=10000000",
    )
    assert status == 2 and "population:" in output and "fraud cards" in output and "this machine has" in output


def test_the_memory_estimate_grows_with_each_part():
    from sim.memory import estimate, too_big

    base = {"name": "m", "horizon": "10d", "population": {"customers": 2000, "merchants": 200}}
    small = estimate(validate(base, "inline"))
    for change in (
        {"population": {"customers": 20000, "merchants": 200}},
        {"history": "120d"},
        {"crews": [{"name": "c", "breach_every": "1d", "breach_size": 100000}]},
    ):
        assert estimate(validate({**base, **change}, "inline")).total > small.total, change
    assert too_big(validate(base, "inline"), limit=small.total) is None
    assert "needs about" in too_big(validate(base, "inline"), limit=small.total / 2)


def test_fewer_merchants_than_categories_is_refused(tiny_file, capsys):
    """With one merchant, invented cash-out tactics found no merchant of their category and the
    run died in the warm-up (IndexError) after validation said ok."""
    status, output = _run_cli(capsys, "validate", str(tiny_file), "--set", "population.merchants=7")
    assert status == 2 and "population.merchants" in output and "greater than or equal to 8" in output


def test_an_automatic_warm_up_over_three_years_is_refused(tiny_file, capsys):
    """A 10-year maturity window validated and then simulated ten years of warm-up (the explicit
    warm-up was capped at 3y; the automatic one was not)."""
    status, output = _run_cli(capsys, "validate", str(tiny_file), "--set", "labels.maturity.window=3650d")
    assert status == 2 and ": warmup:" in output and "over the 3y limit" in output
    status, _ = _run_cli(
        capsys, "validate", str(tiny_file), "--set", "labels.maturity.window=3650d", "--set", "warmup=30d"
    )
    assert status == 0
