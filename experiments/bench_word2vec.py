"""word2vec from scratch against gensim: training words per second and analogy accuracy.

Both train on the same sentences with the same settings (gensim's names: ``--dim 100 --window 5
--negative 5 --min-count 5 --sample 1e-3 --epochs 5``, alpha 0.025 falling linearly to 1e-4), each
with ``--threads`` threads (ours: :class:`course_lib.models.word2vec.Word2Vec` on NumPy with that
many worker threads, Hogwild, and BLAS threads; gensim: that many workers). Only ``train`` is
timed, not the vocabulary. words/s = epochs x corpus tokens / training seconds, the way gensim
counts raw words (subsampled words are counted: they were read). Both sets of vectors are scored by
the same evaluator, :meth:`course_lib.nlp.WordVectors.evaluate` on questions-words.txt (3CosAdd and
3CosMul, the ``--restrict`` most frequent words, questions with a word outside them counted as
OOV); gensim's own ``evaluate_word_analogies`` on its vectors is stored too, as a check of ours.
``ratios`` holds ours/gensim words per second and ours minus gensim accuracy in points, per model.
gensim is the optional extra ``course_lib[reference]``; without it its runs are skipped with the
reason. The load average before and after is stored: a result measured on a busy machine says so.

    python -m experiments bench word2vec --out experiments/results/word2vec_speed_cpu_2core.json
    python -m experiments bench word2vec --max-words 20000 --epochs 1 --models sg   # seconds
"""

from __future__ import annotations

import argparse
import os
import time

from course_lib.data.text import SENTENCE_CORPORA as CORPORA
from course_lib.data.text import load_sentences
from experiments.benchkit import choices, limit_threads, record_end, record_start

MODELS = ("sg", "cbow")


def gensim_reason() -> str | None:
    """Why gensim cannot run here, or None."""
    try:
        import gensim  # noqa: F401
    except ImportError:
        return "gensim not installed (pip install 'course_lib[reference]')"
    return None


def _scores(wv, questions, restrict) -> dict:
    out = {}
    for method in ("add", "mul"):
        r = wv.evaluate(questions, restrict=restrict, method=method)
        out[method] = {
            "accuracy": r["total"]["accuracy"],
            "correct": r["total"]["correct"],
            "asked": r["total"]["asked"],
            "oov_questions": r["oov_questions"],
            "oov_ratio": r["oov_ratio"],
            "semantic": r["semantic"]["accuracy"],
            "syntactic": r["syntactic"]["accuracy"],
            "sections": {k: [v["correct"], v["asked"], v["oov"]] for k, v in r["sections"].items()},
        }
    return out


def run_ours(sentences, model, s, questions) -> dict:
    from course_lib.models.word2vec import Word2Vec
    from course_lib.nlp import Vocab

    vocab = Vocab.build(sentences, min_count=s["min_count"])
    w2v = Word2Vec(
        vocab,
        s["dim"],
        sg=model == "sg",
        window=s["window"],
        negative=s["negative"],
        sample=s["sample"],
        batch=s["batch"],
        workers=s["threads"],
        seed=s["seed"],
    )
    hist = w2v.train(sentences, epochs=s["epochs"])
    n_tokens = sum(len(x) for x in sentences)
    return {
        "impl": "ours",
        "model": model,
        "vocab": len(vocab),
        "seconds": hist["seconds"],
        "words_per_s": s["epochs"] * n_tokens / hist["seconds"],
        "loss_per_epoch": hist["loss"],
        "effective_words_per_epoch": hist["effective_words"],
        "analogies": _scores(w2v.wv, questions, s["restrict"]),
    }


def run_gensim(sentences, model, s, questions, data_dir=None) -> dict:
    import gensim
    from gensim.models import Word2Vec as GensimWord2Vec

    from course_lib.data.store import locate
    from course_lib.nlp import WordVectors

    g = GensimWord2Vec(
        vector_size=s["dim"],
        sg=int(model == "sg"),
        window=s["window"],
        negative=s["negative"],
        hs=0,
        min_count=s["min_count"],
        sample=s["sample"],
        workers=s["threads"],
        seed=s["seed"],
    )
    g.build_vocab(sentences)
    n_tokens = sum(len(x) for x in sentences)
    t0 = time.perf_counter()
    g.train(sentences, total_examples=g.corpus_count, epochs=s["epochs"])
    seconds = time.perf_counter() - t0
    wv = WordVectors(g.wv.index_to_key, g.wv.vectors)
    path = str(locate("questions-words", data_dir))
    own, _ = g.wv.evaluate_word_analogies(path, restrict_vocab=s["restrict"])
    return {
        "impl": "gensim",
        "gensim": gensim.__version__,
        "model": model,
        "vocab": len(wv.words),
        "seconds": seconds,
        "words_per_s": s["epochs"] * n_tokens / seconds,
        "analogies": _scores(wv, questions, s["restrict"]),
        "gensim_evaluate_word_analogies": float(own),
    }


def ratios(runs: list[dict]) -> dict:
    """Per model: ours/gensim words per second, ours - gensim accuracy in points (3CosAdd and
    3CosMul)."""
    by = {(r["impl"], r["model"]): r for r in runs}
    out = {}
    for model in MODELS:
        ours, ref = by.get(("ours", model)), by.get(("gensim", model))
        if ours is None or ref is None:
            continue
        out[model] = {
            "ours_over_gensim_words_per_s": ours["words_per_s"] / ref["words_per_s"],
            "gensim_over_ours_words_per_s": ref["words_per_s"] / ours["words_per_s"],
        }
        for m in ("add", "mul"):
            diff = ours["analogies"][m]["accuracy"] - ref["analogies"][m]["accuracy"]
            out[model][f"accuracy_points_ours_minus_gensim_{m}"] = 100 * diff
    return out


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        prog="python -m experiments bench word2vec",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--corpus", default="ptb", choices=CORPORA)
    p.add_argument("--max-words", type=int, default=None, help="use the first N tokens only")
    p.add_argument("--models", default="sg,cbow", help="comma-separated: sg, cbow")
    p.add_argument("--impls", default="ours,gensim", help="comma-separated: ours, gensim")
    p.add_argument("--dim", type=int, default=100)
    p.add_argument("--window", type=int, default=5)
    p.add_argument("--negative", type=int, default=5)
    p.add_argument("--min-count", type=int, default=5)
    p.add_argument("--sample", type=float, default=1e-3)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch", type=int, default=1024, help="our minibatch, in pairs")
    p.add_argument("--restrict", type=int, default=30_000, help="most frequent words searched")
    p.add_argument("--threads", type=int, default=1, help="gensim workers and our BLAS threads")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--note", default="", help="free text stored in the JSON")
    p.add_argument("--out", default=None, help="JSON path to write (default: print only)")
    return p.parse_args(argv)


def format_table(res: dict) -> str:
    s = res["settings"]
    lines = [
        f"word2vec on {s['corpus']} ({res['tokens']:,} tokens), dim {s['dim']}, window "
        f"{s['window']}, negative {s['negative']}, min_count {s['min_count']}, sample "
        f"{s['sample']}, {s['epochs']} epochs, {s['threads']} thread(s); load average before "
        f"{res['load_before'][0]:.2f}, after {res['load_after'][0]:.2f}"
    ]
    for r in res["runs"]:
        a, m = r["analogies"]["add"], r["analogies"]["mul"]
        lines.append(
            f"  {r['impl']:6s} {r['model']:4s} {r['words_per_s']:10,.0f} words/s  "
            f"3CosAdd {100 * a['accuracy']:5.2f}%  3CosMul {100 * m['accuracy']:5.2f}%  "
            f"({a['asked']} asked, {a['oov_questions']} OOV)"
        )
    for model, v in res["ratios"].items():
        lines.append(
            f"  {model}: gensim/ours speed {v['gensim_over_ours_words_per_s']:.2f}x, accuracy "
            f"ours - gensim {v['accuracy_points_ours_minus_gensim_add']:+.2f} points (3CosAdd)"
        )
    lines += [f"  {x['impl']} skipped: {x['reason']}" for x in res["skipped"]]
    return "\n".join(lines)


def main(argv=None) -> dict:
    from course_lib.data import load_analogies

    args = parse_args(argv)
    models = choices(args.models, MODELS, "models")
    impls = choices(args.impls, ("ours", "gensim"), "impls")
    limiter = limit_threads(args.threads)
    s = {k: getattr(args, k) for k in ("corpus", "max_words", "dim", "window", "negative")}
    s.update({k: getattr(args, k) for k in ("min_count", "sample", "epochs", "batch")})
    s.update(restrict=args.restrict, threads=args.threads, seed=args.seed)
    sentences = load_sentences(args.corpus, args.max_words)
    questions = load_analogies()
    out = record_start(
        "word2vec_speed",
        note=args.note,
        settings=s,
        tokens=sum(len(x) for x in sentences),
        runs=[],
        skipped=[],
    )
    if "gensim" in impls and (reason := gensim_reason()) is not None:
        impls.remove("gensim")
        out["skipped"].append({"impl": "gensim", "reason": reason})
    for model in models:
        for impl in impls:
            r = (run_ours if impl == "ours" else run_gensim)(sentences, model, s, questions)
            r["load_after_run"] = list(os.getloadavg())
            out["runs"].append(r)
            a = r["analogies"]["add"]
            print(
                f"[bench_word2vec] {impl:6s} {model:4s} {r['seconds']:7.1f} s "
                f"{r['words_per_s']:10,.0f} words/s  3CosAdd {100 * a['accuracy']:.2f}%",
                flush=True,
            )
    if limiter is not None:
        limiter.restore_original_limits()
    out["ratios"] = ratios(out["runs"])
    return record_end(out, args.out, format_table, "bench_word2vec")


if __name__ == "__main__":
    main()
