"""Intake on a labelled corpus of realistic messages (tests/corpus/, labels.csv).

The messages were written for these tests: certificates, endorsements, billing, claims,
renewals and cancellations from twelve clients, with signatures, forwards, quoted replies,
Outlook reply blocks, HTML-only mail, voicemail and text notifications, automatic replies, bulk
mail, and deadlines in many wordings. `inspect --json` reads them in order, as a cycle would.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from sheets_ops.cli import main

CORPUS = Path(__file__).parent / "corpus"
LABELS = list(csv.DictReader((CORPUS / "labels.csv").read_text("utf-8").splitlines()))


@pytest.fixture(scope="module")
def answers(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, object]]:
    import contextlib
    import io
    import os

    cwd = os.getcwd()
    os.chdir(tmp_path_factory.mktemp("nowhere"))  # no tracker here: the CSV is all it knows
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            code = main(
                [
                    "inspect",
                    "--json",
                    "--accounts",
                    str(CORPUS / "accounts.csv"),
                    *[str(CORPUS / row["file"]) for row in LABELS],
                ]
            )
    finally:
        os.chdir(cwd)
    assert code == 0
    return [json.loads(line) for line in out.getvalue().splitlines()]


def got(answer: dict[str, object], field: str) -> str:
    value = answer[field]
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def accuracy(answers: list[dict[str, object]], field: str, only_new: bool) -> float:
    rows = [
        (a, r)
        for a, r in zip(answers, LABELS, strict=True)
        if not only_new or r["new_request"] == "true"
    ]
    wrong = [(r["file"], r[field], got(a, field)) for a, r in rows if got(a, field) != r[field]]
    for file, want, have in wrong:
        print(f"{file}: {field} want {want!r} got {have!r}")
    return 1 - len(wrong) / len(rows)


def test_the_corpus_is_big_and_varied_enough() -> None:
    assert len(LABELS) >= 60
    assert {r["channel"] for r in LABELS} == {"email", "voicemail", "text"}
    assert {r["type"] for r in LABELS} >= {
        "COI",
        "Endorsement",
        "Billing",
        "Claim",
        "Renewal",
        "Cancellation",
        "Other",
    }
    assert sum(r["deadline"] != "" for r in LABELS) >= 20
    assert sum(r["new_request"] == "false" for r in LABELS) >= 10


def test_one_answer_per_message_in_order(answers: list[dict[str, object]]) -> None:
    assert [Path(str(a["file"])).name for a in answers] == [r["file"] for r in LABELS]


@pytest.mark.parametrize(
    ("field", "bar"),
    [("type", 0.95), ("client", 0.95), ("policy_number", 0.95), ("deadline", 0.90)],
)
def test_fields_of_new_requests_are_right(
    answers: list[dict[str, object]], field: str, bar: float
) -> None:
    score = accuracy(answers, field, only_new=True)
    print(f"{field}: {score:.1%}")
    assert score >= bar


@pytest.mark.parametrize("field", ["new_request", "channel"])
def test_every_message_is_new_or_not_and_on_its_channel(
    answers: list[dict[str, object]], field: str
) -> None:
    assert accuracy(answers, field, only_new=False) == 1.0
