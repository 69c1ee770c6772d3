"""Intake learns from the agency's own sheet: what CSRs corrected and closed teaches the next
message, through the real cycle on a workbook (no model mocked, nothing stubbed)."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import numpy as np
import pytest
from openpyxl import load_workbook
from scipy.sparse import csr_matrix
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from sheets_ops.cli import main
from sheets_ops.model import TABS
from sheets_ops.rules import learning
from sheets_ops.rules.learning import (
    MIN_EXAMPLES,
    complexity_said,
    examples_from,
    message_of,
    train,
)
from sheets_ops.rules.team import Member, Route
from sheets_ops.sheet import Snapshot, Tab
from sheets_ops.sync.state import StateDir
from sheets_ops.sync.xlsx import XlsxTracker
from tests.conftest import in_a_process

NOW = datetime(2026, 12, 1, 2, 0)
CLIENTS = [f"{name} LLC" for name in ("Alder", "Birch", "Cedar", "Dogwood", "Elm", "Fir")]
BAKERY = "Harbor Lane Bakery"
MARIA = "maria@harborlanebakery.example"
MARIA_HOME = "maria.lopez.bakes@gmail.com"
# How each kind of request reads, in the words clients use (several ways each).
WORDS = {
    "COI": [
        "Please send a certificate of insurance to {x} Properties for the job next week.",
        "The general contractor {x} Builders needs a COI before we can start on site.",
        "Can you issue a certificate naming {x} Management as holder? They asked today.",
    ],
    "Endorsement": [
        "Please add the new truck, a 2024 Ford F-250 from {x} Motors, to our auto policy.",
        "We moved the shop to {x} Avenue, please update the address on the policy.",
        "Add our new driver from {x} to the commercial auto policy starting Monday.",
    ],
    "Billing": [
        "Our card on file changed, the autopay for {x} failed this month, what do we owe?",
        "We got a past due notice on the invoice for {x}; can you check the payment went in?",
        "Why did the premium go up on the last bill for {x}? Please explain the charges.",
    ],
    "Claim": [
        "A customer slipped on the wet floor at {x} yesterday and went to the hospital.",
        "Our van was rear-ended on {x} Road this morning, how do we file a claim?",
        "A pipe burst over the weekend at {x} and flooded the back room, lots of damage.",
    ],
    "Renewal": [
        "Our policy renews next month; can you shop the renewal for {x} and get quotes?",
        "The renewal quote for {x} came in high, is there a cheaper option this year?",
        "Please make sure the {x} renewal is bound before it expires at the end of the month.",
    ],
}
# The bakery writes for the lender its own way; the rules read it as Other.
LENDER = [
    "The bank handling our loan wants to see that we are covered. Can you send what they need?",
    "Our loan officer says the file is missing our coverage info for the lender. Please handle it.",
    "The lender keeps asking for our insurance paperwork for the loan file, can you sort it out?",
    "First Prairie needs to see we are covered before the refinance, can you send it to them?",
]
STEPS = ("Certificate Sent", "Carrier Confirmed", "Billing Adjusted", "Client Notified")
NEW_LENDER = "The bank on our loan wants to see that we are covered again. Can you send it over?"


def history_workbook(path: Path) -> list[str]:
    """A tracker as a few months of use leave it: closed requests of every kind, and the
    bakery's lender messages, read as Other by intake and corrected to COI by a CSR (the Log
    says so). Returns the IDs of the corrected ones."""
    XlsxTracker(path).init(TABS)
    wb = load_workbook(path)
    requests, log = wb["Requests"], wb["Log"]
    header = [str(c.value) for c in requests[1]]
    accounts = wb["Accounts"]
    for name in CLIENTS:
        slug = name.split()[0].lower()
        accounts.append([name, f"office@{slug}.example", None, None, None, None])
    accounts.append([BAKERY, MARIA, None, "BOP-1182233", None, None])
    start = datetime(2026, 9, 1, 9, 0)
    n = 0
    corrected = []

    def add(kind: str, client: str, sender: str, text: str, status: str) -> str:
        nonlocal n
        n += 1
        rid = f"REQ-{n:06d}"
        when = start + timedelta(hours=7 * n)
        row = {
            "ID": rid,
            "Received": when,
            "Channel": "Email",
            "From": sender,
            "Client": client,
            "Type": kind,
            "Summary": text.split(",")[0][:60],
            "Owner": "Alicia Gomez",
            "Status": status,
            "Context": f"Recent: none\nMessage: {text}",
            "Closed": when + timedelta(hours=5) if status == "Done" else None,
        }
        if status == "Done":  # every step of the close checklist ticked
            row.update(dict.fromkeys(STEPS, "Yes"))
        requests.append([row.get(h) for h in header])
        log.append([when, rid, "Created", None, kind, "sheets-ops"])
        return rid

    for k, (kind, phrases) in enumerate(WORDS.items()):
        for j in range(7):
            client = CLIENTS[(k + j) % len(CLIENTS)]
            slug = client.split()[0].lower()
            text = phrases[j % len(phrases)].format(x=("North", "Lake", "Hill", "Bay")[j % 4])
            add(kind, client, f"office@{slug}.example", text, "Done")
    for text in LENDER:
        rid = add("COI", BAKERY, MARIA, text, "In Progress")
        log.append([start + timedelta(days=40), rid, "Type changed", "Other", "COI", "sheet edit"])
        corrected.append(rid)
    # Maria's own webmail, not in Accounts: a CSR filled the Client by hand
    rid = add("Billing", BAKERY, MARIA_HOME, "Did the bakery payment go through this month?", "New")
    log.append([start + timedelta(days=41), rid, "Client changed", None, BAKERY, "sheet edit"])
    # the job's own changes and untouched open rows teach nothing
    rid = add("Claim", CLIENTS[0], "office@alder.example", "Not a claim at all, just hello", "New")
    log.append([start + timedelta(days=42), rid, "Type changed", "Other", "Claim", "sheets-ops"])
    wb.save(path)
    return corrected


def lender_email(n: int, when: datetime, body: str = NEW_LENDER) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Maria Lopez <{MARIA}>"
    msg["To"] = "service@agency.example"
    msg["Subject"] = "Loan file"
    msg["Date"] = format_datetime(when.astimezone())
    msg["Message-ID"] = f"<lender-{n}@harborlanebakery.example>"
    msg.set_content(f"Hi,\n\n{body}\n\nThanks,\nMaria")
    return bytes(msg)


def row_of(path: Path, message_id: str) -> dict[str, object]:
    ws = load_workbook(path)["Requests"]
    header = [c.value for c in ws[1]]
    for values in ws.iter_rows(min_row=2, values_only=True):
        cells = dict(zip(header, values, strict=False))
        if message_id in str(cells.get("Source") or ""):
            return cells
    raise AssertionError(f"no row for {message_id}")


def test_a_csr_correcting_a_clients_lender_requests_teaches_the_next_one(
    agency: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tracker = agency / "tracker.xlsx"
    corrected = history_workbook(tracker)
    (agency / "inbox").mkdir()
    first = agency / "lender-1.eml"  # kept here: the inbox's copy is moved once taken
    first.write_bytes(lender_email(1, datetime(2026, 11, 30, 9, 5)))
    shutil.copy(first, agency / "inbox" / "1.eml")
    # Without the history the rules read it as Other: what the CSRs had to correct.
    accounts = str(write_accounts(agency))
    assert main(["inspect", "--json", "--accounts", accounts, str(first)]) == 0
    assert json.loads(capsys.readouterr().out)["type"] == "Other"
    # ... and with the tracker's history beside the accounts, as the next cycle will
    assert (
        main(["inspect", "--json", "--accounts", accounts, "--history", str(tracker), str(first)])
        == 0
    )
    assert json.loads(capsys.readouterr().out)["type"] == "COI"

    assert main(["run", "--once", "--now", "2026-11-30T09:10"]) == 0
    capsys.readouterr()
    row = row_of(tracker, "lender-1@")
    assert row["Type"] == "COI"
    check = str(row["Context"]).splitlines()[0]
    assert check.startswith("Check: Type from your history: like REQ-"), check
    like = check.rsplit("like ", 1)[1].split()[0].rstrip(";")
    assert like in corrected  # the request it is like is one a CSR corrected
    assert (agency / ".sheets_ops" / "learned.pickle").exists()

    # inspect, with the tracker, answers as the next cycle would
    assert main(["inspect", "--json", str(first)]) == 0
    seen = json.loads(capsys.readouterr().out)
    assert seen["type"] == "COI" and seen["learned"] == [check.removeprefix("Check: ")]

    # STATE_DIR lost: the next nightly run trains the same from the sheet alone
    shutil.rmtree(agency / ".sheets_ops")
    assert main(["run", "--once", "--now", "2026-12-01T02:30"]) == 0
    assert (agency / ".sheets_ops" / "learned.pickle").exists()
    (agency / "inbox" / "2.eml").write_bytes(lender_email(2, datetime(2026, 12, 1, 9, 0)))
    assert main(["run", "--once", "--now", "2026-12-01T09:05"]) == 0
    trained = StateDir(agency / ".sheets_ops").trained()
    assert trained == datetime(2026, 12, 1, 2, 30)  # at most once a day: not again at 09:05
    again = row_of(tracker, "lender-2@")
    assert again["Type"] == "COI"
    assert str(again["Context"]).splitlines()[0] == check
    capsys.readouterr()


def write_accounts(agency: Path) -> Path:
    path = agency / "accounts.csv"
    path.write_text(
        "Client,Contact Emails,Phone,Policies,Account Owner,Special Instructions\n"
        f"{BAKERY},{MARIA},,BOP-1182233,,\n",
        "utf-8",
    )
    return path


def test_what_people_did_is_the_history_and_nothing_else(agency: Path) -> None:
    """Rows closed, or whose Type, Client or Owner a person set (the Log's sheet edits), are
    the examples; the job's own changes and untouched open rows are not."""
    history_workbook(agency / "tracker.xlsx")
    snapshot = XlsxTracker(agency / "tracker.xlsx").read()
    examples = {e.rid: e for e in examples_from(snapshot, {}, [])}
    assert len([e for e in examples.values() if e.kind]) == 5 * 7 + len(LENDER)
    home = next(e for e in examples.values() if e.sender == MARIA_HOME)
    assert home.client == BAKERY and home.kind == ""  # its Client was set, its Type was not
    assert not any("hello" in e.text for e in examples.values())  # the job's own edit
    assert all(message_of(f"Recent: none\nMessage: {w}") == w for w in LENDER)


def test_a_sender_people_matched_to_a_client_is_matched_again_and_doctor_suggests_it(
    agency: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    history_workbook(agency / "tracker.xlsx")
    assert main(["learn", "--now", "2026-11-30T08:00"]) == 0
    assert "labelled requests" in capsys.readouterr().out
    message = agency / "home.eml"
    message.write_bytes(
        lender_email(
            9, datetime(2026, 11, 30, 9, 0), "Is the autopay set up for the bakery?"
        ).replace(MARIA.encode(), MARIA_HOME.encode())
    )
    assert main(["inspect", "--json", str(message)]) == 0
    seen = json.loads(capsys.readouterr().out)
    assert (seen["client"], seen["matched_by"]) == (BAKERY, "history")
    assert not seen["known_contact"]  # not listed in Accounts: the Context still warns
    main(["doctor"])
    suggested = [line for line in capsys.readouterr().out.splitlines() if "suggest" in line]
    assert len(suggested) == 1 and MARIA_HOME in suggested[0] and BAKERY in suggested[0]


def test_the_owners_rules_tab_wins_over_history(
    agency: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tracker = agency / "tracker.xlsx"
    history_workbook(tracker)
    message = agency / "lender.eml"
    message.write_bytes(lender_email(1, datetime(2026, 11, 30, 9, 5)))
    assert main(["inspect", "--json", str(message)]) == 0
    assert json.loads(capsys.readouterr().out)["type"] == "COI"  # history, without the row
    wb = load_workbook(tracker)
    wb["Rules"].append(["Type", "loan officer, lender, the bank", "Other"])  # the owner's own
    wb.save(tracker)
    assert main(["inspect", "--json", str(message)]) == 0
    seen = json.loads(capsys.readouterr().out)
    assert seen["type"] == "Other" and seen["learned"] == []


QUIET_THEN_MAIL = """
import sys
from pathlib import Path
from sheets_ops.cli import main
opened = []
def heard(event, args):
    if event == 'open' and str(args[0]).endswith('learned.pickle'):
        opened.append(args[0])
sys.addaudithook(heard)
assert main(['run', '--once', '--now', '2026-11-30T09:00']) == 0
quiet = len(opened)
Path('inbox/1.eml').write_bytes(Path(sys.argv[1]).read_bytes())
assert main(['run', '--once', '--now', '2026-11-30T09:10']) == 0
print(quiet, len(opened) - quiet, 'sklearn' in sys.modules)
"""


def test_the_models_read_mail_without_importing_scikit_learn(agency: Path) -> None:
    """scikit-learn is for training: a quiet cycle does not load the models, and a cycle
    whose message the models decide reads them with NumPy alone (importing scikit-learn
    costs a cycle a second or more)."""
    history_workbook(agency / "tracker.xlsx")
    (agency / "inbox").mkdir()
    assert main(["learn", "--now", "2026-11-30T08:00"]) == 0
    message = agency / "lender.eml"
    message.write_bytes(lender_email(1, datetime(2026, 11, 30, 9, 5)))
    said = in_a_process(agency, "-c", QUIET_THEN_MAIL, str(message))
    # the quiet cycle opened no models, the other opened them once and imported no sklearn
    assert said.split()[-3:] == ["0", "1", "False"]
    row = row_of(agency / "tracker.xlsx", "lender-1@")
    assert row["Type"] == "COI"  # the models did decide it
    assert str(row["Context"]).startswith("Check: Type from your history: like REQ-")


def corpus_texts() -> list[str]:
    folder = Path(__file__).parent / "corpus" / "messages"
    return [f.read_text("utf-8", errors="replace") for f in sorted(folder.iterdir())]


@pytest.mark.parametrize("analyzer", ["words", "chars"])
def test_features_read_without_scikit_learn_are_what_its_vectorizer_makes(analyzer: str) -> None:
    """The edge with scikit-learn: a message's TF-IDF vector, as the models read it with
    NumPy, equals TfidfVectorizer's for the same vocabulary, on messages it was not fitted
    on (unknown terms, repeated ones, digits, accents)."""
    texts = corpus_texts()
    fitted, unseen = texts[: len(texts) // 2], texts[len(texts) // 2 :]
    unseen += ["Café déjà vu 2024 2024 certificate certficate", "", "a b c", "?!"]
    vectorizer = TfidfVectorizer(analyzer=learning.ANALYZERS[analyzer], sublinear_tf=True, min_df=2)
    vectorizer.fit(fitted)
    block, moved = learning._block(vectorizer, analyzer, 7)
    expected = vectorizer.transform(unseen).toarray()
    for text, row in zip(unseen, expected, strict=True):
        columns, weights = block.vector(text)
        ours = np.zeros(len(moved) + 7)
        ours[columns] = weights
        np.testing.assert_allclose(ours[moved], row, atol=1e-12)
        assert (ours[:7] == 0).all()


@pytest.mark.parametrize("labels", [2, 5])
def test_probabilities_read_without_scikit_learn_are_its_predict_proba(labels: int) -> None:
    """The same edge for the classifier: NumPy's answer is LogisticRegression's
    predict_proba, for two labels (the logistic) and for several (the softmax)."""
    rng = np.random.default_rng(7)
    matrix = csr_matrix(rng.random((200, 40)) * (rng.random((200, 40)) < 0.2))
    names = [f"label {k}" for k in range(labels)]
    wanted = [names[j % labels] for j in range(200)]
    classifier = learning._fit(matrix, wanted, list(range(200)))
    assert classifier is not None
    model = LogisticRegression(C=20.0, max_iter=2000, class_weight="balanced")
    model.fit(matrix, wanted)
    expected = model.predict_proba(matrix)
    assert classifier.model.classes == list(model.classes_)
    for j in range(200):
        row = matrix[j]
        x = learning._Vector(row.indices.astype(np.int64), row.data)
        np.testing.assert_allclose(classifier.model.proba(x), expected[j], atol=1e-9)


def test_too_little_history_trains_no_model_and_the_rules_decide(
    agency: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [
        ["REQ-000001", None, "Email", "a@b.example", "A", None, "COI", "s", *[None] * 3, "Done"]
    ]
    header = ["ID", "Received", "Channel", "From", "Client", "Policy #", "Type", "Summary"]
    header += ["Certificate Holder", "Client Deadline", "Owner", "Status"]
    learned = train(
        examples_from(Snapshot({"Requests": Tab("Requests", header, rows)}), {}, []), NOW
    )
    assert not learned.sure and learned.kinds is None
    assert learned.client_of("a@b.example") == "A"
    assert MIN_EXAMPLES == 30


def test_history_can_make_a_request_complex_and_routing_follows_it() -> None:
    assert complexity_said("Check: complex from your history: like REQ-000004\nMessage: hi")
    assert complexity_said("Message: complex from your history") is None  # a client's words
    routes = {"COI": Route(route_to="On-duty CSR", complex_route_to="Account Manager")}
    team = [
        Member("Ann", "", "CSR", True, None, ""),
        Member("Sam", "", "Account Manager", True, None, ""),
    ]
    header = ["ID", "Type", "Owner", "Status", "Summary", "Context", "From"]
    rows = [
        ["REQ-000001", "COI", "Sam", "Done", "cert", "Message: x", "a@b.example"],
        ["REQ-000002", "COI", "Ann", "Done", "cert", "Message: y", "a@b.example"],
        ["REQ-000003", "COI", "Ann", "In Progress", "cert", "Message: z", "a@b.example"],
    ]
    snapshot = Snapshot({"Requests": Tab("Requests", header, rows)})
    by = {e.rid: e.complex for e in examples_from(snapshot, routes, team)}
    assert by == {"REQ-000001": True, "REQ-000002": False}  # the open one says nothing yet


@pytest.mark.parametrize("damage", ["junk", "cut short", "earlier format"])
def test_unreadable_models_leave_the_rules_to_decide_and_are_trained_again(
    agency: Path, damage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Models STATE_DIR cannot read (a disk that filled mid-write, a file from an earlier
    version) never cost a message: the rules read it, and the next cycle trains again."""
    tracker = agency / "tracker.xlsx"
    history_workbook(tracker)
    (agency / "inbox").mkdir()
    assert main(["learn", "--now", "2026-11-30T08:00"]) == 0
    state = agency / ".sheets_ops"
    models, meta = state / "learned.pickle", state / "learned.json"
    if damage == "junk":
        models.write_bytes(b"not a pickle at all")
    elif damage == "cut short":
        models.write_bytes(models.read_bytes()[:5000])
    else:  # what the previous version wrote beside its models
        meta.write_text(json.dumps({"trained": "2026-11-30T08:00:00", "sklearn": "1.9.1"}))
    capsys.readouterr()
    (agency / "inbox" / "1.eml").write_bytes(lender_email(1, datetime(2026, 11, 30, 9, 5)))
    assert main(["run", "--once", "--now", "2026-11-30T09:10"]) == 0
    out = capsys.readouterr().err  # where the cycle says what it learned
    row = row_of(tracker, "lender-1@")
    if damage == "earlier format":  # known to be old at once: trained before the message
        assert "learned from history" in out and row["Type"] == "COI"
    else:  # found unreadable when the message asked: the rules decided
        assert "learned from history" not in out and row["Type"] == "Other"
        assert main(["run", "--once", "--now", "2026-11-30T09:15"]) == 0
        assert "learned from history" in capsys.readouterr().err
    assert StateDir(state).load_learned() is not None
    (agency / "inbox" / "2.eml").write_bytes(lender_email(2, datetime(2026, 11, 30, 9, 20)))
    assert main(["run", "--once", "--now", "2026-11-30T09:25"]) == 0
    assert row_of(tracker, "lender-2@")["Type"] == "COI"
