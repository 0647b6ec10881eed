"""The course (scenarios/README.md) and its closing page are generated from measured answers
(scenarios/answers.json, written by `make course`): the pages match the answers, the answers were
measured on the files the lessons run, every claim the text makes holds on its interval, and, in
the slow tier, running a lesson again gives the recorded numbers."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import course  # noqa: E402
from course_lessons import CLOSING, LESSONS  # noqa: E402

from sim.summary import Interval  # noqa: E402

RECORDED = json.loads(course.ANSWERS.read_text())["lessons"]
PAGES = [*LESSONS, CLOSING]


def test_the_pages_are_the_recorded_answers_rendered():
    assert course.COURSE.read_text() == course.course_page(RECORDED), "run `make course` (or course.py --render)"
    assert course.CLOSING_PAGE.read_text() == course.closing_page(RECORDED), "run `make course`"


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.key)
def test_answers_were_measured_on_the_files_the_lessons_run(page):
    record = RECORDED[page.key]
    assert record["commands"] == [f"fraudsim {c}" for c in page.commands]
    assert record["inputs"] == [course.inputs_hash(c) for c in page.commands], (
        f"{page.key}: a file it runs changed since its answers were measured: run `make course`"
    )


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.key)
def test_every_claim_holds_on_its_interval(page):
    answers = page.answers if page in LESSONS else [a for section in page.sections for a in section.answers]
    recorded = RECORDED[page.key]["answers"]
    assert [a["says"] for a in recorded] == [a.says for a in answers]
    for answer, measured in zip(answers, recorded, strict=True):
        value = Interval.from_json(measured["value"])
        assert value.ci_low is not None, f"{answer.says}: measured without an interval"
        assert answer.holds(value), f"{page.key}: {answer.claim} does not hold: {course.said(measured)}"


def test_claims_are_checked_against_the_interval_not_the_mean():
    answer = LESSONS[0].answers[0]
    assert answer.claim == "above 0"
    assert answer.holds(Interval(0.2, 0.01, 0.4))
    assert not answer.holds(Interval(0.2, -0.01, 0.4))  # a positive mean, an interval across zero
    spans = next(a for lesson in LESSONS for a in lesson.answers if a.claim == "spans 0")
    assert spans.holds(Interval(0.01, -0.05, 0.07)) and not spans.holds(Interval(0.1, 0.02, 0.2))


@pytest.mark.slow
def test_a_lesson_run_again_gives_its_recorded_answers(tmp_path):
    """The labels lesson, run again from scratch by the generator: the same numbers to the digit."""
    lesson = next(lesson for lesson in LESSONS if lesson.key == "labels")
    again = course.lesson_record(lesson, tmp_path, force=True)
    assert again == RECORDED["labels"]
