"""word2vec (Mikolov et al. 2013): skip-gram and CBOW with negative sampling, on NumPy or CuPy.

    vocab = Vocab.build(sentences, min_count=5)
    model = Word2Vec(vocab, dim=100, sg=True, window=5, negative=5, sample=1e-3, seed=0)
    history = model.train(sentences, epochs=5)            # {"loss": [...], "words_per_s": ...}
    model.wv.most_similar("king")                          # a course_lib.nlp.WordVectors

Each word has an input vector (a row of ``W_in``, the embedding that is kept) and an output
vector (``W_out``).  For a pair (center c, context o) and K negatives n_k drawn from unigram^0.75,
skip-gram minimises, with h = W_in[o] and sigma the logistic function,

    L = -log sigma(h . W_out[c]) - sum_k log sigma(-h . W_out[n_k])

(the context word's input vector predicts the center word, as in word2vec.c and gensim).  CBOW
uses h = the mean of W_in over the window and predicts the center word the same way.  The update
is the one of word2vec.c: with g = lr (label - sigma(s)) for each score s = h . u,
``u += g h`` and ``h += sum g u``; CBOW adds the same ``sum g u`` to every context word (not
divided by the window size, as word2vec.c and gensim do).

What the original tool does and this does too: subsampling of frequent words before the windows
are formed, a window shrunk at random to 1..window for each center word, windows that do not
cross sentence ends, a negative equal to the target skipped, W_in ~ U(-0.5/dim, 0.5/dim) and
W_out = 0, and a learning rate falling linearly from ``alpha`` to ``min_alpha`` over all epochs.
What is different: pairs are processed in minibatches of ``batch`` pairs (``batch`` centers for
CBOW) all computed from the same weights, and the gradients of a word that occurs several times in
a batch are summed (a scatter-add, :func:`course_lib.nn.embedding.scatter_add`).  The C tool
updates after every pair; with batch=1 this is the same algorithm.
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from course_lib.backend import asnumpy, get_array_module, synchronize
from course_lib.history import progress_bar
from course_lib.nlp.vocab import UnigramSampler, Vocab
from course_lib.nn.embedding import scatter_add


def encode_corpus(vocab: Vocab, sentences) -> tuple[np.ndarray, np.ndarray]:
    """``(ids, sentence)``: the in-vocabulary word ids of all sentences end to end (int32), and
    for each the number of its sentence, so that windows can stop at sentence ends."""
    ids, sent = [], []
    for k, s in enumerate(sentences):
        e = vocab.encode(s)
        ids.append(e)
        sent.append(np.full(len(e), k, dtype=np.int32))
    if not ids:
        raise ValueError("encode_corpus: no sentences")
    return np.concatenate(ids), np.concatenate(sent)


def _check_pairs(ids, sent):
    """Refuse a corpus without two in-vocabulary words in one sentence: it has no pairs."""
    if not np.any(sent[1:] == sent[:-1]):
        raise ValueError(
            f"word2vec: no training pairs: the corpus has {len(ids)} in-vocabulary word(s) "
            "and no sentence holds two of them (windows stop at sentence ends). Give sentences "
            "as lists of tokens, a longer corpus, or a Vocab built from this corpus with a "
            "lower min_count"
        )


def window_pairs(sentence, window, rng):
    """Context positions of every position of a stretch of text: ``(ctx, valid)``, both
    (n, 2 window); ``ctx[i]`` lists i-window..i-1, i+1..i+window and ``valid`` marks those inside
    the text, in the same sentence, and within a random reduced window 1..window of i."""
    n = len(sentence)
    offsets = np.r_[np.arange(-window, 0), np.arange(1, window + 1)]
    win = window - rng.integers(0, window, n)  # word2vec.c: b = rand % window
    ctx = np.arange(n)[:, None] + offsets
    valid = (np.abs(offsets) <= win[:, None]) & (ctx >= 0) & (ctx < n)
    ctx = np.clip(ctx, 0, n - 1)
    valid &= sentence[ctx] == sentence[:, None]
    return ctx, valid


def _sigmoid(x, xp):
    return 0.5 * (xp.tanh(0.5 * x) + 1)  # overflow-free logistic function


def score_errors(h, u, mask=None):
    """``(L, e)`` for scores s_k = h . u_k, u[:, 0] the target and u[:, 1:] the negatives:
    ``L = -sum_b [log sigma(s_b0) + sum_k>0 log sigma(-s_bk)]`` and ``e = dL/ds = sigma(s) -
    label``.  ``mask`` (B, K+1) of 0/1 leaves terms out (word2vec skips a negative that equals
    the target)."""
    xp = get_array_module(h)
    s = xp.einsum("bd,bkd->bk", h, u)
    p = _sigmoid(s, xp)
    p[:, 0] -= 1  # e = sigma(s) - label
    nll = -xp.log(xp.maximum(1 - xp.abs(p), 1e-7))  # the label's probability is 1 - |e|
    if mask is not None:
        p *= mask
        nll *= mask
    return nll.sum(), p


def negative_sampling_loss(h, u, mask=None):
    """Loss and gradients: h (B, D), u (B, K+1, D) -> ``(L, dh, du)`` with ``dh = sum_k e_k u_k``
    and ``du_k = e_k h`` (:func:`score_errors` gives L and e)."""
    xp = get_array_module(h)
    loss, e = score_errors(h, u, mask)
    return loss, xp.einsum("bk,bkd->bd", e, u), e[:, :, None] * h[:, None, :]


class Word2Vec:
    """Skip-gram (``sg=True``) or CBOW with negative sampling; gensim's defaults and names."""

    def __init__(
        self,
        vocab: Vocab,
        dim: int = 100,
        *,
        sg: bool = True,
        window: int = 5,
        negative: int = 5,
        sample: float = 1e-3,
        alpha: float = 0.025,
        min_alpha: float = 1e-4,
        batch: int = 1024,
        workers: int = 1,
        seed: int = 0,
        dtype="float32",
        xp=np,
    ):
        if window < 1 or negative < 1 or dim < 1 or batch < 1 or workers < 1:
            raise ValueError("Word2Vec: dim, window, negative, batch and workers must be >= 1")
        self.workers = workers
        self.vocab, self.dim, self.sg, self.window, self.negative = vocab, dim, sg, window, negative
        self.sample, self.alpha, self.min_alpha, self.batch = sample, alpha, min_alpha, batch
        self.rng = np.random.default_rng(seed)
        self.xp = xp
        w = (self.rng.random((len(vocab), dim)) - 0.5) / dim
        self.W_in = xp.asarray(w.astype(dtype))
        self.W_out = xp.zeros((len(vocab), dim), dtype=dtype)
        self.sampler = UnigramSampler(vocab.counts, 0.75, xp=xp)
        self.keep = vocab.keep_probs(sample)

    @property
    def wv(self):
        """The input vectors as :class:`course_lib.nlp.analogy.WordVectors` (on the host)."""
        from course_lib.nlp.analogy import WordVectors

        return WordVectors(self.vocab.words, asnumpy(self.W_in))

    # -- one minibatch ---------------------------------------------------------------------
    def _targets(self, center, negatives):
        xp = self.xp
        tgt = xp.concatenate([xp.asarray(center)[:, None], xp.asarray(negatives)], axis=1)
        mask = tgt[:, 1:] != tgt[:, :1]
        return tgt, xp.concatenate([xp.ones_like(mask[:, :1]), mask], axis=1).astype(
            self.W_in.dtype
        )

    def step_skipgram(self, center, context, negatives, lr):
        """One update from pairs (center[b], context[b]) with negatives (B, K); returns the
        summed loss."""
        tgt, mask = self._targets(center, negatives)
        ctx = self.xp.asarray(context)
        h, u = self.W_in[ctx], self.W_out[tgt]
        loss, e = score_errors(h, u, mask)
        dh = self.xp.einsum("bk,bkd->bd", e, u)
        scatter_add(self.W_out, tgt, h, -lr, weights=e)
        scatter_add(self.W_in, ctx, dh, -lr)
        return loss

    def step_cbow(self, center, ctx, valid, negatives, lr):
        """One update for centers with context ids ctx (B, 2 window) where valid."""
        xp = self.xp
        tgt, mask = self._targets(center, negatives)
        ctx, valid = xp.asarray(ctx), xp.asarray(valid)
        m = valid.astype(self.W_in.dtype)[:, :, None]
        h = (self.W_in[ctx] * m).sum(axis=1) / m.sum(axis=1)
        u = self.W_out[tgt]
        loss, e = score_errors(h, u, mask)
        dh = xp.einsum("bk,bkd->bd", e, u)
        scatter_add(self.W_out, tgt, h, -lr, weights=e)
        dctx = xp.broadcast_to(dh[:, None, :], ctx.shape + dh.shape[1:])
        scatter_add(self.W_in, ctx[valid], dctx[valid], -lr)
        return loss

    # -- training ----------------------------------------------------------------------------
    def train(self, sentences, epochs: int = 5, chunk: int = 100_000, progress=None) -> dict:
        """Train on ``sentences`` (lists of tokens, or ``(ids, sentence)`` from
        :func:`encode_corpus`) for ``epochs`` passes; returns the history.

        ``progress(epoch, fraction, mean_loss)`` is called after each chunk of ``chunk`` words;
        ``progress=True`` (or ``"transient"``) shows a bar over the words instead.
        History: ``loss`` (mean loss per pair, per epoch), ``words`` (in-vocabulary words per
        epoch, before subsampling), ``seconds``, ``words_per_s`` (all epochs' words / seconds).
        A corpus that can give no (center, context) pair is refused; an epoch whose subsampling
        left no pair has loss NaN, with a warning.
        """
        ids, sent = (
            sentences if isinstance(sentences, tuple) else encode_corpus(self.vocab, sentences)
        )
        _check_pairs(ids, sent)
        n_raw, rng = len(ids), self.rng
        hist = {"loss": [], "words": n_raw, "pairs": [], "effective_words": []}
        show = progress is True or progress == "transient"
        bar = progress_bar(epochs * n_raw, "word2vec", progress if show else False, unit="word")
        if show:
            progress = lambda e, f, _: bar.update(round((e + f) * n_raw) - bar.n)  # noqa: E731
        t0 = time.perf_counter()
        for epoch in range(epochs):
            kept = rng.random(n_raw) < self.keep[ids]
            k_ids, k_sent = ids[kept], sent[kept]
            loss_sum, n_pairs = 0.0, 0
            starts = range(0, len(k_ids), chunk)

            def run(start, rng=rng, k_ids=k_ids, k_sent=k_sent, epoch=epoch):
                c_ids, c_sent = k_ids[start : start + chunk], k_sent[start : start + chunk]
                done = (epoch + start / max(len(k_ids), 1)) / epochs
                step = (epoch + len(c_ids) / max(len(k_ids), 1)) / epochs - done
                return start + len(c_ids), self._train_chunk(c_ids, c_sent, done, step, rng)

            for end, (ls, npairs) in self._map(run, starts, rng):
                loss_sum, n_pairs = loss_sum + ls, n_pairs + npairs
                if progress is not None:
                    progress(epoch, end / len(k_ids), loss_sum / max(n_pairs, 1))
            hist["loss"].append(self._epoch_loss(loss_sum, n_pairs, epoch))
            hist["pairs"].append(n_pairs)
            hist["effective_words"].append(int(kept.sum()))
        synchronize(self.xp)
        bar.close()
        hist["seconds"] = time.perf_counter() - t0
        hist["words_per_s"] = epochs * n_raw / hist["seconds"]
        return hist

    def _map(self, run, starts, rng):
        """``run`` over the chunk starts: in order with ``rng`` (workers=1, reproducible), or on
        ``workers`` threads at once, each chunk with its own generator, all updating the same
        weights without locks (Hogwild, as word2vec.c's threads do: NumPy releases the GIL in
        its array operations)."""
        if self.workers == 1:
            return (run(start) for start in starts)
        from concurrent.futures import ThreadPoolExecutor

        seeds = rng.integers(0, 2**63, len(starts))
        with ThreadPoolExecutor(self.workers) as pool:
            return list(
                pool.map(lambda a: run(a[0], np.random.default_rng(a[1])), zip(starts, seeds))
            )

    def _epoch_loss(self, loss_sum, n_pairs, epoch):
        """Mean loss per pair and per scored word; NaN, with a warning, for an epoch of no pairs."""
        if n_pairs == 0:
            warnings.warn(
                f"word2vec epoch {epoch + 1}: subsampling (sample={self.sample}) left no training "
                "pair, its loss is NaN: use sample=0 or a larger corpus",
                RuntimeWarning,
                stacklevel=3,
            )
            return float("nan")
        return loss_sum / n_pairs / (1 + self.negative)

    def lr_at(self, progress: float) -> float:
        """alpha falling linearly to min_alpha as training ``progress`` goes from 0 to 1."""
        return max(self.min_alpha, self.alpha - (self.alpha - self.min_alpha) * progress)

    def _train_chunk(self, ids, sent, done, span, rng):
        ctx, valid = window_pairs(sent, self.window, rng)
        total, B = 0.0, self.batch
        if self.sg:
            center = np.repeat(ids, valid.sum(axis=1))
            context = ids[ctx[valid]]
        else:
            rows = np.flatnonzero(valid.any(axis=1))
            center, ctx, valid = ids[rows], ids[ctx[rows]], valid[rows]
        n = len(center)
        negatives = self.sampler.sample((n, self.negative), rng)
        for s in range(0, n, B):
            lr = self.lr_at(done + span * s / max(n, 1))
            b = slice(s, s + B)
            if self.sg:
                loss = self.step_skipgram(center[b], context[b], negatives[b], lr)
            else:
                loss = self.step_cbow(center[b], ctx[b], valid[b], negatives[b], lr)
            total += float(loss)
        return total, n
