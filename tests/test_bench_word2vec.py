"""The word2vec benchmark: a tiny run through main(), its JSON, the ratios and the table."""

import json

import pytest

from experiments import bench_word2vec


def test_tiny_run_writes_json(tmp_path, data_dir):
    out = tmp_path / "w2v.json"
    res = bench_word2vec.main(
        ["--max-words", "20000", "--epochs", "1", "--dim", "16", "--restrict", "2000"]
        + ["--note", "tiny", "--out", str(out)]
    )
    saved = json.loads(out.read_text())
    assert saved == json.loads(json.dumps(res))
    assert saved["benchmark"] == "word2vec_speed" and saved["note"] == "tiny"
    assert saved["tokens"] == 20000 and saved["settings"]["threads"] == 1
    assert len(saved["load_before"]) == 3 and saved["machine"]["cpu_count"]
    impls = {r["impl"] for r in saved["runs"]} | {s["impl"] for s in saved["skipped"]}
    assert impls == {"ours", "gensim"}
    for r in saved["runs"]:
        a = r["analogies"]["add"]
        assert r["words_per_s"] > 0 and 0 <= a["accuracy"] <= 1
        assert a["asked"] + a["oov_questions"] == 19544
    ours = [r for r in saved["runs"] if r["impl"] == "ours"]
    assert {r["model"] for r in ours} == {"sg", "cbow"}
    if not saved["skipped"]:
        ratio = saved["ratios"]["sg"]["ours_over_gensim_words_per_s"]
        speeds = {(r["impl"], r["model"]): r["words_per_s"] for r in saved["runs"]}
        assert ratio == pytest.approx(speeds["ours", "sg"] / speeds["gensim", "sg"])
        oov = {r["analogies"]["add"]["oov_questions"] for r in saved["runs"]}
        assert len(oov) == 1  # the same vocabulary, so the same questions asked
    assert "words/s" in bench_word2vec.format_table(saved)


def test_sentences_are_cut_at_max_words(data_dir):
    s = bench_word2vec.load_sentences("ptb", 1000)
    assert sum(map(len, s)) == 1000 and s[0][:3] == ["aer", "banknote", "berlitz"]
    with pytest.raises(ValueError, match="unknown corpus"):
        bench_word2vec.load_sentences("wiki")
