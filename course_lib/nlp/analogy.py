"""Queries on word vectors: nearest words by cosine, analogies, and the questions-words.txt test.

    wv = model.wv                                   # or WordVectors(words, matrix)
    wv.most_similar("king", topn=5)                 # [(word, cosine), ...]
    wv.analogy("man", "king", "woman")              # "a is to b as c is to ?" -> "queen", ideally
    report = wv.evaluate(load_analogies(), restrict=30_000, method="add")
    report["total"]["accuracy"], report["oov_questions"]

For a : b :: c : ?, with unit vectors (Mikolov et al. 2013; Levy & Goldberg 2014):

* **3CosAdd**: argmax_d cos(d, b - a + c) = argmax_d [cos(d, b) - cos(d, a) + cos(d, c)];
* **3CosMul**: argmax_d cos'(d, b) cos'(d, c) / (cos'(d, a) + 1e-3), cos' = (1 + cos) / 2, which
  keeps one large similarity from swamping the others (gensim's ``most_similar_cosmul`` uses
  1e-6; Levy & Goldberg use 0.001).

The words a, b and c are never answers.  :meth:`WordVectors.evaluate` counts like gensim's
``evaluate_word_analogies``: only the ``restrict`` most frequent words are searched, a question
with a word outside them is skipped and counted as out of vocabulary, and the accuracy is over
the questions asked.  Words are compared case-insensitively by default (the most frequent spelling
wins), as gensim does.
"""

from __future__ import annotations

import numpy as np

from course_lib.backend import asnumpy

METHODS = ("add", "mul")


class WordVectors:
    """Words (most frequent first) and their vectors, one row each."""

    def __init__(self, words, vectors):
        self.words = list(words)
        self.vectors = np.asarray(asnumpy(vectors), dtype=np.float32)
        if len(self.words) != len(self.vectors):
            raise ValueError(f"{len(self.words)} words but {len(self.vectors)} vectors")
        self.index = {w: i for i, w in enumerate(self.words)}
        norms = np.linalg.norm(self.vectors, axis=1, keepdims=True)
        self.unit = self.vectors / np.maximum(norms, 1e-12)

    def __contains__(self, word) -> bool:
        return word in self.index

    def __getitem__(self, word) -> np.ndarray:
        return self.vectors[self._id(word)]

    def _id(self, word) -> int:
        try:
            return self.index[word]
        except KeyError:
            raise KeyError(f"{word!r} is not in the vocabulary ({len(self.words)} words)") from None

    def similarity(self, a, b) -> float:
        return float(self.unit[self._id(a)] @ self.unit[self._id(b)])

    def most_similar(self, positive, negative=(), topn=10, restrict=None):
        """Words nearest by cosine to the sum of the unit vectors of ``positive`` minus those of
        ``negative`` (a word or a list), leaving out the query words: ``[(word, cosine)]``."""
        positive = [positive] if isinstance(positive, str) else list(positive)
        negative = [negative] if isinstance(negative, str) else list(negative)
        q = sum(self.unit[self._id(w)] for w in positive) - sum(
            (self.unit[self._id(w)] for w in negative), np.zeros_like(self.unit[0])
        )
        q = q / max(np.linalg.norm(q), 1e-12)
        sims = self.unit[:restrict] @ q
        query = {self.index[w] for w in positive + negative}
        top = [i for i in np.argsort(-sims)[: topn + len(query)] if i not in query][:topn]
        return [(self.words[i], float(sims[i])) for i in top]

    def analogy(self, a, b, c, method="add", topn=1):
        """``a`` is to ``b`` as ``c`` is to ? -> the best word (``topn=1``) or a list of words."""
        ids = np.array([[self._id(a), self._id(b), self._id(c)]])
        scores = _analogy_scores(self.unit, self.unit, ids, method)[0]
        top = np.argsort(-scores)[:topn]
        return self.words[top[0]] if topn == 1 else [self.words[i] for i in top]

    def evaluate(self, questions, restrict=30_000, method="add", case_insensitive=True, chunk=512):
        """Accuracy on analogy questions (``course_lib.data.load_analogies()``), per section and
        in total, gensim style: ``{"sections": {name: {"correct", "asked", "oov",
        "accuracy"}}, "total": {...}, "semantic": {...}, "syntactic": {...}, "oov_questions",
        "oov_ratio", "restrict", "method"}``; ``oov`` counts questions with a word outside the
        ``restrict`` most frequent words (skipped, not counted as wrong)."""
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {method!r}")
        words = self.words[:restrict]
        norm = str.lower if case_insensitive else (lambda w: w)
        ok = {}
        for i, w in enumerate(words):
            ok.setdefault(norm(w), i)  # the most frequent spelling wins
        sections, asked_ids, asked_sec = {}, [], []
        for q in questions:
            sec = sections.setdefault(q.section, {"correct": 0, "asked": 0, "oov": 0})
            ids = [ok.get(norm(w)) for w in (q.a, q.b, q.c, q.d)]
            if None in ids:
                sec["oov"] += 1
                continue
            asked_ids.append(ids)
            asked_sec.append(q.section)
        unit = self.unit[: len(words)]
        if asked_ids:
            arr = np.array(asked_ids)
            pred = np.concatenate(
                [
                    np.argmax(_analogy_scores(unit, unit, arr[s : s + chunk, :3], method), axis=1)
                    for s in range(0, len(arr), chunk)
                ]
            )
            for sec, hit in zip(asked_sec, pred == arr[:, 3]):
                sections[sec]["asked"] += 1
                sections[sec]["correct"] += int(hit)
        return _summary(sections, restrict, method)


def _analogy_scores(unit, search, ids, method):
    """Scores of every word in ``search`` as the answer of each (a, b, c) row of ``ids``."""
    a, b, c = (unit[ids[:, j]] for j in range(3))
    if method == "add":
        q = b - a + c
        q /= np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)
        scores = q @ search.T
    else:
        ca, cb, cc = ((search @ v.T).T for v in (a, b, c))
        scores = ((1 + cb) / 2) * ((1 + cc) / 2) / ((1 + ca) / 2 + 1e-3)
    rows = np.arange(len(ids))[:, None]
    scores[rows, ids] = -np.inf  # a, b and c are never the answer
    return scores


def _summary(sections, restrict, method):
    def acc(d):
        d["accuracy"] = d["correct"] / d["asked"] if d["asked"] else float("nan")
        return d

    names = list(sections)

    def total(subset):
        return acc({k: sum(sections[s][k] for s in subset) for k in ("correct", "asked", "oov")})

    semantic = [s for s in names if not s.startswith("gram")]
    syntactic = [s for s in names if s.startswith("gram")]
    tot = total(names)
    n_questions = tot["asked"] + tot["oov"]
    return {
        "method": method,
        "restrict": restrict,
        "sections": {s: acc(sections[s]) for s in names},
        "semantic": total(semantic),
        "syntactic": total(syntactic),
        "total": tot,
        "oov_questions": tot["oov"],
        "oov_ratio": tot["oov"] / n_questions if n_questions else float("nan"),
    }
