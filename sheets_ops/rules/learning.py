"""What the agency's own sheet teaches intake.

Every request a CSR corrected or closed is a labelled example: its Type (set or corrected by
a person, or closed as it stood), whether it was complex (the person who did the work is the
Routing tab's Complex Route To for the Type, not its Route To), and who the client is for the
sender. `examples_from` reads them from the Requests and Archive tabs and the Log's "sheet
edit" lines; `train` turns them into a `Learned`: two small scikit-learn text classifiers
(TF-IDF over words and character n-grams, logistic regression) and the senders people
matched to clients. Nothing else is kept: a fresh STATE_DIR trains the same from the sheet.

`Learned` answers only; `understand` decides when its answer is used (rules unsure, or a
confident model that disagrees; never over a Rules-tab pattern the owner wrote).
scikit-learn and NumPy are imported only to train or to read a message with the
models: a cycle without mail does not pay for them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sheets_ops.model import ARCHIVE, LOG, REQUESTS, RequestType, parse_id
from sheets_ops.rules.directory import Directory, digits
from sheets_ops.rules.history import CLOSED, SHEET_EDIT
from sheets_ops.rules.team import Member, Route
from sheets_ops.sheet import Snapshot, cell_text

MIN_EXAMPLES = 30  # labelled requests before a model is trained
MIN_PER_LABEL = 3  # a Type (or complex, or not) with fewer is left out of the model
MAX_TRAINED = 20_000  # the latest labelled requests the models learn from
LEARNED_TYPE = "Type from your history"
LEARNED_COMPLEX = "complex from your history"
MESSAGE = "Message: "  # where the Context cell keeps the message's own words
TYPES = frozenset(t.value for t in RequestType)


@dataclass(frozen=True)
class Example:
    """One request as the sheet keeps it, with what people said about it."""

    rid: str
    text: str  # learning_text(...) of the row
    sender: str  # the From cell, lower case
    client: str  # the Client, when a person set it or closed the request with it
    kind: str  # the Type, when a person set it or closed the request with it ("" if not)
    complex: bool | None  # who did the work says so (None: it does not tell)


def learning_text(summary: str, words: str, sender: str) -> str:
    """What a classifier reads of a request: the Summary, the sender's domain (a carrier's
    billing desk writes one way, a lender another) and the message's own words."""
    domain = sender.rpartition("@")[2] if "@" in sender else ""
    where = f"fromdomain{re.sub(r'[^a-z0-9]', '', domain.lower())}" if domain else ""
    return f"{summary}\n{where}\n{words}"


def message_of(context: str) -> str:
    """The message's own words, as the Context cell keeps them (its last part)."""
    at = context.rfind(MESSAGE)
    return context[at + len(MESSAGE) :].strip() if at >= 0 else ""


def complexity_said(context: str) -> bool | None:
    """Whether a Context cell's Check line says history found the request complex: routing
    honours it rather than reading the message again (None: it does not say)."""
    for line in context.splitlines():
        if line.startswith("Check:") and LEARNED_COMPLEX in line:
            return True
    return None


def sender_keys(sender: str) -> list[str]:
    """How a sender is recognised again: the address, and the domain (`@domain`); a
    caller's or texter's phone by its digits (`tel:...`)."""
    sender = sender.strip().lower()
    if "@" in sender:
        return [sender, "@" + sender.rpartition("@")[2]]
    number = digits(sender)
    return [f"tel:{number}"] if len(number) >= 7 else []


def _edited(snapshot: Snapshot) -> dict[str, set[str]]:
    """Request ID -> the columns people changed, by the Log's sheet-edit lines."""
    log = snapshot.tab(LOG.name)
    out: dict[str, set[str]] = {}
    if log is None:
        return out
    at = [log.col(n) for n in ("Request", "What", "By")]
    if any(j is None for j in at):
        return out
    rid_, what_, by_ = (j for j in at if j is not None)
    width = max(rid_, what_, by_) + 1
    for row in log.rows:
        if len(row) < width or cell_text(row[by_]) != SHEET_EDIT:
            continue
        what = cell_text(row[what_])
        if what.endswith(" changed"):
            out.setdefault(cell_text(row[rid_]), set()).add(what.removesuffix(" changed"))
    return out


def _fills(cell: str, owner: str, team: Mapping[str, Member]) -> bool:
    """Whether a Routing cell (a Name, or a Role) names this owner."""
    member = team.get(owner.lower())
    cell = cell.strip().lower()
    if not cell or member is None:
        return False
    role = member.role.strip().lower()
    return cell == owner.lower() or cell == role or (cell == "on-duty csr" and role == "csr")


def _complexity(
    kind: str, owner: str, routes: Mapping[str, Route], team: Mapping[str, Member]
) -> bool | None:
    route = routes.get(kind)
    if route is None or not route.complex_route_to or not owner:
        return None
    hard = _fills(route.complex_route_to, owner, team)
    plain = _fills(route.route_to, owner, team)
    return None if hard == plain else hard


def examples_from(
    snapshot: Snapshot, routes: Mapping[str, Route], team: Sequence[Member]
) -> list[Example]:
    """The requests people labelled: their Type, Client or Owner set by a person (the Log's
    sheet edits say so), or closed as they stood (Done or Cancelled), from the Requests and
    Archive tabs of `snapshot` (a snapshot joined with the archive outside the tracker
    holds them all)."""
    edited = _edited(snapshot)
    members = {m.name.lower(): m for m in team}
    out = []
    for name in (REQUESTS.name, ARCHIVE.name):
        tab = snapshot.tab(name)
        if tab is None:
            continue
        for _row, rec in tab.records():
            rid = cell_text(rec.get("id"))
            if parse_id(rid) is None:
                continue
            changed = edited.get(rid, set())
            closed = cell_text(rec.get("status")) in CLOSED
            kind = cell_text(rec.get("type"))
            owner = cell_text(rec.get("owner"))
            sender = cell_text(rec.get("from")).lower()
            labelled_kind = kind in TYPES and (closed or "Type" in changed)
            client = cell_text(rec.get("client")) if closed or "Client" in changed else ""
            complex_ = (
                _complexity(kind, owner, routes, members)
                if kind in TYPES and (closed or "Owner" in changed)
                else None
            )
            if not (labelled_kind or client or complex_ is not None):
                continue
            words = message_of(cell_text(rec.get("context")))
            text = learning_text(cell_text(rec.get("summary")), words, sender)
            out.append(Example(rid, text, sender, client, kind if labelled_kind else "", complex_))
    return out


@dataclass(frozen=True)
class Guess:
    label: str
    p: float  # the model's probability for it


@dataclass(frozen=True)
class Reading:
    """What the models make of one message: its features, the Type model's guess and the
    complexity model's (None where there is no such model)."""

    x: Any
    kind: Guess | None
    complex: Guess | None


@dataclass
class _Classifier:
    model: Any  # a fitted sklearn LogisticRegression
    labels: list[str]  # of the examples it was fitted on
    # label -> (the Learned.ids of its examples, their features): for "like REQ-000812"
    by_label: dict[str, tuple[list[str], Any]]

    def guesses(self, x: Any) -> list[Guess]:
        """The likeliest label of each row of `x`, with its probability."""
        import sklearn

        with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
            proba = self.model.predict_proba(x)
        best = proba.argmax(axis=1)
        return [
            Guess(str(self.model.classes_[b]), float(row[b]))
            for b, row in zip(best, proba, strict=True)
        ]

    def like(self, x: Any, label: str) -> str:
        """The labelled request most like the message (cosine of their features)."""
        ids, features = self.by_label.get(label, ([], None))
        if not ids:
            return ""
        similar = (features @ x.T).toarray().ravel()
        return ids[int(similar.argmax())]


def _fit(
    matrix: Any, labels: Sequence[str], rows: Sequence[int], ids: Sequence[str]
) -> _Classifier | None:
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    counts: dict[str, int] = {}
    for j in rows:
        counts[labels[j]] = counts.get(labels[j], 0) + 1
    keep = [j for j in rows if counts[labels[j]] >= MIN_PER_LABEL]
    if len(keep) < MIN_EXAMPLES or len({labels[j] for j in keep}) < 2:
        return None
    wanted = [labels[j] for j in keep]
    model = LogisticRegression(C=20.0, max_iter=2000, class_weight="balanced")
    model.fit(matrix[np.array(keep)], wanted)
    by_label = {}
    for label in sorted(set(wanted)):
        mine = [j for j in keep if labels[j] == label]
        by_label[label] = ([ids[j] for j in mine], matrix[np.array(mine)])
    return _Classifier(model, wanted, by_label)


@dataclass
class Learned:
    """What the sheet's history says, as trained on `trained` (agency wall clock)."""

    trained: datetime
    examples: int
    features: Any = None  # a fitted sklearn FeatureUnion of two TfidfVectorizers
    kinds: _Classifier | None = None
    complexity: _Classifier | None = None
    senders: dict[str, str] = field(default_factory=dict)  # sender key -> client
    matched: dict[str, int] = field(default_factory=dict)  # sender key -> requests it labels
    _read: dict[str, Reading] = field(default_factory=dict, repr=False, compare=False)

    @property
    def sure(self) -> bool:
        """Whether there is a model to ask (enough examples)."""
        return self.kinds is not None or self.complexity is not None

    def describe(self) -> str:
        parts = [f"{self.examples:,} labelled requests"]
        if self.kinds is not None:
            parts.append(f"Type from {len(self.kinds.labels):,}")
        if self.complexity is not None:
            parts.append(f"complexity from {len(self.complexity.labels):,}")
        parts.append(f"{len(self.senders):,} senders matched to clients")
        return "; ".join(parts)

    def prepare(self, texts: Sequence[str]) -> None:
        """A cycle's messages read together (scikit-learn's cost is per call: one call for
        250 messages is ten times cheaper than 250), kept for `read`."""
        if self.features is None or not texts:
            return
        import sklearn

        with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
            matrix = self.features.transform(list(texts)).tocsr()
        kinds = self.kinds.guesses(matrix) if self.kinds is not None else []
        flags = self.complexity.guesses(matrix) if self.complexity is not None else []
        for j, text in enumerate(texts):
            self._read[text] = Reading(
                matrix[j], kinds[j] if kinds else None, flags[j] if flags else None
            )

    def read(self, text: str) -> Reading | None:
        """What the models make of a message's `learning_text` (None without a model)."""
        if self.features is None:
            return None
        if text not in self._read:
            self.prepare([text])
        return self._read[text]

    def like(self, reading: Reading, kinds: bool = True) -> str:
        """The ID of the labelled request most like the message among those with the
        guessed label (of the Type model, or of the complexity one): what the Check line
        names. Asked only for a guess intake uses."""
        which, guess = (self.kinds, reading.kind) if kinds else (self.complexity, reading.complex)
        return which.like(reading.x, guess.label) if which and guess else ""

    def __getstate__(self) -> dict[str, Any]:  # what `prepare` read is a cycle's own
        return {k: v for k, v in self.__dict__.items() if k != "_read"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state, _read={})

    def suggested_contacts(self, directory: Directory) -> list[tuple[str, str, int]]:
        """(address or @domain, client, requests) people matched that the client's Contact
        Emails in Accounts do not list yet: what doctor suggests adding."""
        out = []
        for key, client in sorted(self.senders.items()):
            account = directory.account(client)
            if key.startswith("tel:") or account is None:
                continue
            domain = key.rpartition("@")[2]
            listed = key in account.emails or domain in account.domains
            if not listed and (key.startswith("@") or f"@{domain}" not in self.senders):
                out.append((key, client, self.matched.get(key, 0)))
        return out

    def client_of(self, sender: str) -> str:
        """The client people matched this sender to, every time ("" when none, or not one)."""
        for key in sender_keys(sender):
            if key in self.senders:
                return self.senders[key]
        return ""


def _senders(examples: Sequence[Example]) -> tuple[dict[str, str], dict[str, int]]:
    """Sender keys people matched to one client only, and how many requests say so. A
    domain counts when two or more of its addresses were matched, all to the same client (a
    shared webmail domain never is)."""
    seen: dict[str, set[str]] = {}
    count: dict[str, int] = {}
    addresses: dict[str, set[str]] = {}
    for e in examples:
        if not e.client or not e.sender:
            continue
        for key in sender_keys(e.sender):
            seen.setdefault(key, set()).add(e.client)
            count[key] = count.get(key, 0) + 1
            if key.startswith("@"):
                addresses.setdefault(key, set()).add(e.sender)
    senders = {
        key: next(iter(clients))
        for key, clients in seen.items()
        if len(clients) == 1 and (not key.startswith("@") or len(addresses[key]) >= 2)
    }
    return senders, {key: count[key] for key in senders}


def _digits_as_zero(text: str) -> str:
    return re.sub(r"\d", "0", text.lower())


def train(examples: Sequence[Example], now: datetime) -> Learned:
    """The models, from the labelled requests (none below MIN_EXAMPLES of a kind)."""
    senders, matched = _senders(examples)
    learned = Learned(now, len(examples), senders=senders, matched=matched)
    examples = examples[-MAX_TRAINED:]  # the latest: how the agency's clients write now
    texts = [e.text for e in examples]
    if len(texts) < MIN_EXAMPLES:
        return learned  # and scikit-learn is not even imported
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    words = TfidfVectorizer(preprocessor=_digits_as_zero, ngram_range=(1, 2), sublinear_tf=True)
    chars = TfidfVectorizer(
        preprocessor=_digits_as_zero,
        analyzer="char_wb",
        ngram_range=(3, 5),
        sublinear_tf=True,
        min_df=2,
        max_features=200_000,
    )
    features = FeatureUnion([("words", words), ("chars", chars)])
    matrix = features.fit_transform(texts).tocsr()  # rows picked by index below
    learned.features = features
    ids = [e.rid for e in examples]
    kinds = [e.kind for e in examples]
    learned.kinds = _fit(matrix, kinds, [j for j, e in enumerate(examples) if e.kind], ids)
    flags = ["complex" if e.complex else "plain" for e in examples]
    labelled = [j for j, e in enumerate(examples) if e.complex is not None]
    learned.complexity = _fit(matrix, flags, labelled, ids)
    return learned
