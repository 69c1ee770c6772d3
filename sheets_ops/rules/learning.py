"""What the agency's own sheet teaches intake.

Every request a CSR corrected or closed is a labelled example: its Type (set or corrected by
a person, or closed as it stood), whether it was complex (the person who did the work is the
Routing tab's Complex Route To for the Type, not its Route To), and who the client is for the
sender. `examples_from` reads them from the Requests and Archive tabs and the Log's "sheet
edit" lines; `train` turns them into a `Learned`: two small text classifiers (TF-IDF over
words and character n-grams, logistic regression) and the senders people matched to
clients. Nothing else is kept: a fresh STATE_DIR trains the same from the sheet.

`Learned` answers only; `understand` decides when its answer is used (rules unsure, or a
confident model that disagrees; never over a Rules-tab pattern the owner wrote).
scikit-learn fits the models; reading a message with them takes NumPy alone, and a cycle
without mail does not even load them.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from hashlib import blake2b
from itertools import pairwise
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
READ_CHARS = 3_000  # of a request's text the models read: enough to tell, and a bound
CHAR_GRAMS = (3, 4, 5)
WORD = re.compile(r"(?u)\b\w\w+\b")  # TfidfVectorizer's default token pattern
DIGIT = re.compile(r"\d")


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

    x: _Vector
    kind: Guess | None
    complex: Guess | None


@dataclass(frozen=True)
class _Vector:
    """A message's features: the columns it has, and their TF-IDF weights."""

    columns: Any  # numpy int64 array, ascending
    weights: Any  # numpy float64 array, one per column


def _words(text: str) -> list[str]:
    """Words of two letters or more, and each pair of neighbours (as TfidfVectorizer's
    default token pattern reads them), digits folded to 0."""
    tokens = WORD.findall(_digits_as_zero(text[:READ_CHARS]))
    return tokens + [f"{a} {b}" for a, b in pairwise(tokens)]


def _chars(text: str) -> list[str]:
    """Character 3-, 4- and 5-grams inside each word padded with a space (a misspelt
    "certficate" still shares most of them with "certificate")."""
    out: list[str] = []
    for word in _digits_as_zero(text[:READ_CHARS]).split():
        padded = f" {word} "
        for n in CHAR_GRAMS:
            out += [padded[i : i + n] for i in range(max(1, len(padded) - n + 1))]
    return out


ANALYZERS: dict[str, Callable[[str], list[str]]] = {"words": _words, "chars": _chars}


@functools.lru_cache(maxsize=1 << 17)  # a day's messages share most of their terms
def _key(term: str) -> int:
    return int.from_bytes(blake2b(term.encode(), digest_size=8).digest(), "little")


def _keys(terms: Sequence[str]) -> Any:
    """A 64-bit key per term (what the models keep of their vocabulary: 8 bytes a term, not
    a Python string in a dict, so that loading them is quick and small)."""
    import numpy as np

    return np.fromiter(map(_key, terms), dtype=np.uint64, count=len(terms))


@dataclass
class _Block:
    """One kind of feature as training fitted it: the terms' keys (sorted), their inverse
    document frequencies, and where its columns start among all the features."""

    analyzer: str  # a name in ANALYZERS: the file keeps no reference to code
    keys: Any  # numpy uint64, ascending; a term's column is its position, plus `start`
    idf: Any  # numpy float64, one per key
    start: int

    def vector(self, text: str) -> tuple[Any, Any]:
        """Columns and weights as TfidfVectorizer(sublinear_tf=True) computes them: 1 +
        log(count), times the idf, the block normalised to length 1."""
        import numpy as np

        counts = Counter(ANALYZERS[self.analyzer](text))
        terms = list(counts)
        if not terms or not len(self.keys):
            return np.empty(0, np.int64), np.empty(0)
        keys = _keys(terms)
        at = np.searchsorted(self.keys, keys).clip(max=len(self.keys) - 1)
        known = self.keys[at] == keys
        columns = at[known]
        tf = np.array([counts[t] for t, k in zip(terms, known, strict=True) if k], float)
        weights = (1.0 + np.log(tf)) * self.idf[columns] if len(columns) else tf
        norm = float(np.sqrt(weights @ weights)) if len(columns) else 0.0
        order = columns.argsort()
        return columns[order] + self.start, (weights / norm if norm else weights)[order]


def _block(vectorizer: Any, analyzer: str, start: int) -> tuple[_Block, Any]:
    """A fitted TfidfVectorizer's vocabulary as sorted keys, and the column each of the
    vectorizer's own columns moves to."""
    import numpy as np

    terms = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
    keys = _keys(terms)
    order = keys.argsort(kind="stable")
    moved = np.empty(len(order), np.int64)
    moved[order] = np.arange(len(order)) + start
    return _Block(analyzer, keys[order], vectorizer.idf_[order], start), moved


@dataclass
class _Features:
    """What a message is to the models: its words and its character n-grams, read without
    scikit-learn (whose import alone costs a cycle with mail a second or more)."""

    blocks: tuple[_Block, ...]

    def vector(self, text: str) -> _Vector:
        import numpy as np

        parts = [b.vector(text) for b in self.blocks]
        return _Vector(np.concatenate([c for c, _ in parts]), np.concatenate([w for _, w in parts]))


@dataclass
class _Linear:
    """A fitted LogisticRegression's weights, and its answer for a vector: the softmax of
    the scores (the logistic of the one score, for two labels), as its predict_proba."""

    classes: list[str]
    coef: Any  # numpy float64 (1 or len(classes)) x features
    intercept: Any

    def proba(self, x: _Vector) -> Any:
        import numpy as np

        scores = self.coef[:, x.columns] @ x.weights + self.intercept
        if len(self.classes) == 2:
            p = 1.0 / (1.0 + np.exp(-scores[0]))
            return np.array([1.0 - p, p])
        scores = np.exp(scores - scores.max())
        return scores / scores.sum()


@dataclass
class _Neighbours:
    """The labelled requests' word features, column by column: which of them is most like a
    message (the cosine of their word vectors) is what the Check line names."""

    ids: list[str]
    start: Any  # numpy int64: where each word column's entries start in `rows`/`weights`
    rows: Any  # numpy int32: the example each entry belongs to
    weights: Any  # numpy float32

    def best(self, x: _Vector, among: Any) -> str:
        """The ID of the example in `among` (a numpy bool per example) most like `x`."""
        import numpy as np

        words = x.columns < len(self.start) - 1
        score = np.zeros(len(self.ids))
        for column, weight in zip(x.columns[words], x.weights[words], strict=True):
            lo, hi = self.start[column], self.start[column + 1]
            score[self.rows[lo:hi]] += weight * self.weights[lo:hi]
        score[~among] = -1.0
        return self.ids[int(score.argmax())]


def _neighbours(matrix: Any, words: int, ids: Sequence[str]) -> _Neighbours:
    import numpy as np

    by_column = matrix[:, :words].tocsc()
    by_column.sort_indices()
    return _Neighbours(
        list(ids),
        by_column.indptr.astype(np.int64),
        by_column.indices.astype(np.int32),
        by_column.data.astype(np.float32),
    )


@dataclass
class _Classifier:
    model: _Linear
    labels: list[str]  # of the examples it was fitted on
    label_of: Any  # numpy object array: each example's label ("" when not among them)

    def guesses(self, vectors: Sequence[_Vector]) -> list[Guess]:
        """The likeliest label of each vector, with its probability."""
        out = []
        for x in vectors:
            proba = self.model.proba(x)
            best = int(proba.argmax())
            out.append(Guess(self.model.classes[best], float(proba[best])))
        return out

    def like(self, neighbours: _Neighbours, x: _Vector, label: str) -> str:
        """The labelled request with this label most like the message."""
        among = self.label_of == label
        return neighbours.best(x, among) if among.any() else ""


def _fit(matrix: Any, labels: Sequence[str], rows: Sequence[int]) -> _Classifier | None:
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
    label_of = np.full(matrix.shape[0], "", dtype=object)
    label_of[np.array(keep)] = wanted
    linear = _Linear([str(c) for c in model.classes_], model.coef_, model.intercept_)
    return _Classifier(linear, wanted, label_of)


@dataclass
class Learned:
    """What the sheet's history says, as trained on `trained` (agency wall clock)."""

    trained: datetime
    examples: int
    features: _Features | None = None
    kinds: _Classifier | None = None
    complexity: _Classifier | None = None
    neighbours: _Neighbours | None = None
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
        """A cycle's messages read together, kept for `read`."""
        if self.features is None:
            return
        vectors = [self.features.vector(t) for t in texts]
        kinds = self.kinds.guesses(vectors) if self.kinds is not None else []
        flags = self.complexity.guesses(vectors) if self.complexity is not None else []
        for j, (text, x) in enumerate(zip(texts, vectors, strict=True)):
            self._read[text] = Reading(x, kinds[j] if kinds else None, flags[j] if flags else None)

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
        if which is None or guess is None or self.neighbours is None:
            return ""
        return which.like(self.neighbours, reading.x, guess.label)

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
    return DIGIT.sub("0", text.lower())


def train(examples: Sequence[Example], now: datetime) -> Learned:
    """The models, from the labelled requests (none below MIN_EXAMPLES of a kind).

    scikit-learn fits them: the vocabularies and idf (TfidfVectorizer, over our own
    analyzers) and the weights (LogisticRegression). What is kept is their numbers, which
    `_Features` and `_Linear` apply with NumPy alone: reading a message never imports
    scikit-learn."""
    senders, matched = _senders(examples)
    learned = Learned(now, len(examples), senders=senders, matched=matched)
    examples = examples[-MAX_TRAINED:]  # the latest: how the agency's clients write now
    texts = [e.text for e in examples]
    if len(texts) < MIN_EXAMPLES:
        return learned  # and scikit-learn is not even imported
    import numpy as np
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer

    words = TfidfVectorizer(analyzer=_words, sublinear_tf=True, dtype=np.float64)
    chars = TfidfVectorizer(
        analyzer=_chars, sublinear_tf=True, min_df=2, max_features=200_000, dtype=np.float64
    )  # (the same functions the models read a message with: ANALYZERS)
    by_words, by_chars = words.fit_transform(texts), chars.fit_transform(texts)
    word_block, word_columns = _block(words, "words", 0)
    char_block, char_columns = _block(chars, "chars", len(word_columns))
    matrix = hstack([by_words, by_chars], format="csr")  # then in the blocks' column order
    matrix.indices = np.concatenate([word_columns, char_columns])[matrix.indices]
    matrix.sort_indices()
    learned.features = _Features((word_block, char_block))
    learned.neighbours = _neighbours(matrix, len(word_columns), [e.rid for e in examples])
    kinds = [e.kind for e in examples]
    learned.kinds = _fit(matrix, kinds, [j for j, e in enumerate(examples) if e.kind])
    flags = ["complex" if e.complex else "plain" for e in examples]
    labelled = [j for j, e in enumerate(examples) if e.complex is not None]
    learned.complexity = _fit(matrix, flags, labelled)
    return learned
