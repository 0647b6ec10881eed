"""The course (scenarios/README.md) and its closing page (docs/when-online-pays.md), with every
lesson's answer measured: runs each lesson's command, measures its answers with their 95 %
intervals, checks each answer's claim, and writes the pages and `scenarios/answers.json`.

    .venv/bin/python benchmarks/course.py                  # run what is missing or out of date, write the pages
    .venv/bin/python benchmarks/course.py --only cadence   # one lesson's runs
    .venv/bin/python benchmarks/course.py --render         # the pages again from scenarios/answers.json

(`make course` runs the first.) A lesson's outputs go to `reports/course/` and are reused while
the files they were run from are unchanged; after a change to fraudsim's code that may move the
numbers, `--force` runs them all again (the slow test runs one lesson again to catch one). A claim that does not hold
is printed and makes the command fail: the pages never state an answer the numbers do not support.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shlex
import subprocess
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from course_lessons import CLOSING, LESSONS, Answer, Lesson  # noqa: E402
from course_measures import sweep_table  # noqa: E402

from sim import __version__  # noqa: E402
from sim.summary import Interval  # noqa: E402

ANSWERS = ROOT / "scenarios" / "answers.json"
COURSE = ROOT / "scenarios" / "README.md"
CLOSING_PAGE = ROOT / "docs" / "when-online-pays.md"


def output(command: str, root: Path) -> Path:
    """Where a command's outputs go: by kind and file, with a short hash of any ``--set``."""
    words = shlex.split(command)
    name = Path(words[1]).stem
    extra = " ".join(words[2:])
    if extra:
        name += "-" + hashlib.sha256(extra.encode()).hexdigest()[:8]
    return root / ("sweeps" if words[0] == "sweep" else "runs") / name


def inputs_hash(command: str) -> str:
    """The command and the contents of the files it reads (a sweep's base scenario too)."""
    words = shlex.split(command)
    digest = hashlib.sha256(command.encode())
    path = ROOT / words[1]
    digest.update(path.read_bytes())
    if words[0] == "sweep":
        base = tomllib.loads(path.read_text()).get("base")
        if base:
            digest.update((path.parent / base).read_bytes())
    return digest.hexdigest()


def complete(directory: Path) -> bool:
    return (directory / "summary.json").exists() or (directory / "results.parquet").exists()


def run(command: str, root: Path, force: bool) -> Path:
    """The command's outputs, run now unless a complete earlier run of the same inputs is there
    (its stamp, the inputs' hash, is kept beside the outputs: fraudsim refuses other files in them)."""
    directory = output(command, root)
    stamp = directory.with_name(directory.name + ".inputs")
    wanted = inputs_hash(command)
    if not force and complete(directory) and stamp.exists() and stamp.read_text() == wanted:
        return directory
    started = time.perf_counter()
    print(f"fraudsim {command}", flush=True)
    words = [sys.executable, "-m", "sim", *shlex.split(command), "--out", str(directory), "--no-report"]
    if force and words[3] == "sweep":
        words.append("--force")
    stamp.unlink(missing_ok=True)
    subprocess.run(words, cwd=ROOT, check=True)
    stamp.write_text(wanted)
    print(f"  {time.perf_counter() - started:.0f} s", flush=True)
    return directory


def measure(answer: Answer, directories: list[Path]) -> dict:
    value: Interval = answer.measure(directories[answer.command])
    return {
        "says": answer.says,
        "value": value.to_json(),
        "unit": answer.unit,
        "claim": answer.claim,
        "holds": answer.holds(value),
    }


def lesson_record(lesson: Lesson, root: Path, force: bool) -> dict:
    needed = {answer.command for answer in lesson.answers}  # a command shown only for its report is not run
    directories = [run(c, root, force) if i in needed else None for i, c in enumerate(lesson.commands)]
    return {
        "commands": [f"fraudsim {c}" for c in lesson.commands],
        "inputs": [inputs_hash(c) for c in lesson.commands],
        "answers": [measure(answer, directories) for answer in lesson.answers],
    }


def closing_record(root: Path, force: bool) -> dict:
    directories = [run(command, root, force) for command in CLOSING.commands]
    sections = []
    for section in CLOSING.sections:
        table = section.table
        sections.append(
            {
                "answers": [measure(answer, directories) for answer in section.answers],
                "table": table and sweep_table(directories[table.command], table.arms, table.baseline, table.measure),
            }
        )
    return {
        "commands": [f"fraudsim {c}" for c in CLOSING.commands],
        "inputs": [inputs_hash(c) for c in CLOSING.commands],
        "answers": [answer for section in sections for answer in section["answers"]],
        "sections": sections,
    }


# --- the pages ------------------------------------------------------------------------------


GENERATED = "<!-- Generated by `make course` (benchmarks/course.py) from measured runs. Do not edit by hand. -->"


def number(value: float, unit: str, bare: bool = False) -> str:
    """A measured value in its unit: a signed percentage (a relative difference), a share, points
    of share (signed), money per transaction, or a ratio (times); ``bare`` leaves the unit out."""
    signed = "+" if unit in ("percent", "points", "money") else ""
    digits = 3 if unit == "money" else 1
    shown = f"{value * (1 if unit in ('money', 'times') else 100):{signed}.{digits}f}"
    words = {"percent": " %", "share": " %", "points": " points", "money": " € per transaction", "times": "×"}
    if unit not in words:
        raise ValueError(f"unknown unit {unit!r}")
    return shown if bare else shown + words[unit]


def with_interval(value: dict, unit: str, prefix: str = "95 % CI ") -> str:
    """``+12.3 % (95 % CI +4.5 to +20.1 %)``: the mean, and the bounds with the unit said once."""
    low = number(value["ci_low"], unit, bare=True)
    high = number(value["ci_high"], unit, bare=unit in ("points", "money"))
    return f"{number(value['mean'], unit)} ({prefix}{low} to {high})"


def said(answer: dict) -> str:
    """An answer's sentence with its number and 95 % interval."""
    return answer["says"].format(value=with_interval(answer["value"], answer["unit"]))


COURSE_INTRO = """\
Each lesson asks one question, gives the command that answers it, says where to look in the
report it writes (`reports/<name>/index.html`; a sweep's in `reports/sweep-<name>/`), and gives
the answer that command produces: the mean over the lesson's replications with its 95 %
interval, paired by replication where two arms are compared (they share each replication's
world). A difference is the first arm's figure minus the second's, as a share of the second's:
negative means the first costs less. With the same seed you get the same numbers, byte for
byte; `fraudsim scenarios` lists every file."""

COURSE_END = """\
Next: [when does online learning pay, and why](../docs/when-online-pays.md), the course's sweeps
read together.

Change anything with `--set` (`fraudsim run scenarios/cadence.toml --set arms.batch-weekly.every=3d`);
[docs/scenario-reference.md](../docs/scenario-reference.md) lists every key. `learners.toml`
compares every learner fraudsim has, and `typologies.toml` runs the fraud of published generators."""


def course_page(records: dict[str, dict]) -> str:
    lines = ["# A course in label delay, with answers", "", GENERATED, "", COURSE_INTRO, ""]
    for n, lesson in enumerate(LESSONS, 1):
        record = records[lesson.key]
        lines += [f"## {n}. {lesson.title}", "", f"**The question.** {lesson.question}", ""]
        lines += ["```sh", *record["commands"], "```", ""]
        lines += [f"**Where to look.** {lesson.look}", "", "**The answer.**", ""]
        lines += [f"- {said(answer)}" for answer in record["answers"]]
        lines += ["", f"**Why.** {lesson.why}", ""]
    return "\n".join([*lines, COURSE_END, ""])


def table_lines(table: dict) -> list[str]:
    """A sweep table in Markdown: a row per point, a column per arm."""
    arms = list(table["arms"])
    lines = ["| | " + " | ".join(f"`{arm}`" for arm in arms) + " |", "| --- |" + " --- |" * len(arms)]
    for i, point in enumerate(table["points"]):
        cells = (with_interval(table["arms"][arm][i], "percent", prefix="") for arm in arms)
        lines.append(f"| {point} | " + " | ".join(cells) + " |")
    return lines


def closing_page(records: dict[str, dict]) -> str:
    lines = [f"# {CLOSING.title}", "", GENERATED, "", CLOSING.intro, ""]
    record = records[CLOSING.key]
    for section, measured in zip(CLOSING.sections, record["sections"], strict=True):
        lines += [f"## {section.title}", "", section.text, ""]
        if measured["table"]:
            lines += [*table_lines(measured["table"]), ""]
        if measured["answers"]:
            lines += [*(f"- {said(answer)}" for answer in measured["answers"]), ""]
    return "\n".join([*lines, CLOSING.outro, ""])


def write(records: dict[str, dict]) -> None:
    COURSE.write_text(course_page(records))
    CLOSING_PAGE.write_text(closing_page(records))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", help="the lessons (keys) to run and measure again")
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "course", help="where the runs go")
    parser.add_argument("--force", action="store_true", help="run again even what is up to date")
    parser.add_argument("--render", action="store_true", help="only write the pages from scenarios/answers.json")
    args = parser.parse_args(argv)
    measured = {}
    if not args.render:
        for lesson in LESSONS:
            if not args.only or lesson.key in args.only:
                measured[lesson.key] = lesson_record(lesson, args.out, args.force)
        if not args.only or CLOSING.key in args.only:
            measured[CLOSING.key] = closing_record(args.out, args.force)
    # read the recorded answers only now: lessons measured meanwhile by another run are kept
    records = json.loads(ANSWERS.read_text())["lessons"] if ANSWERS.exists() else {}
    if measured:
        records = {page.key: measured.get(page.key, records.get(page.key)) for page in [*LESSONS, CLOSING]}
        records = {key: record for key, record in records.items() if record is not None}
        ANSWERS.write_text(json.dumps({"fraudsim": __version__, "lessons": records}, indent=1) + "\n")
    failed = []
    for key, record in records.items():
        for answer in record["answers"]:
            print(f"{'ok ' if answer['holds'] else 'NO '} {key}: {said(answer)} [{answer['claim']}]")
            if not answer["holds"]:
                failed.append(f"{key}: {answer['claim']} does not hold: {said(answer)}")
    missing = [lesson.key for lesson in [*LESSONS, CLOSING] if lesson.key not in records]
    if missing:
        print(f"not measured yet: {', '.join(missing)}", file=sys.stderr)
        return 1
    write(records)
    for line in failed:
        print(line, file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
