"""The website: staged from a run folder (finished lessons only), built by Sphinx with MyST-NB,
no broken links inside it, and in a browser the figures load and the maths renders."""

import base64
import io
import json

import nbformat
import pytest

from experiments import book, browser


def _png() -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1], [1, 0])
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


# where papermill's injected cell says the results go: the building machine's own folder
BUILD_PATH = "/tmp/builder-7f3a/runs/quick/results/00_history.json"
LONG_SETTINGS = "Settings(" + ", ".join(f"knob_number_{i}={i * 1000}" for i in range(12)) + ")"


def _parameter_cells():
    """The lesson's parameters cell, papermill's injected cell after it, a settings cell whose
    output is one long line, and a cell showing a Markdown table."""
    own = nbformat.v4.new_code_cell(
        'profile = "quick"   # the lesson\'s own knob\nresults_path = None'
    )
    own.metadata["tags"] = ["parameters"]
    injected = nbformat.v4.new_code_cell(f'# Parameters\nresults_path = "{BUILD_PATH}"\n')
    injected.metadata["tags"] = ["injected-parameters"]
    settings = nbformat.v4.new_code_cell(
        "cfg",
        outputs=[
            nbformat.v4.new_output(
                "execute_result", data={"text/plain": LONG_SETTINGS}, execution_count=1
            )
        ],
    )
    table = nbformat.v4.new_code_cell(
        "display(Markdown(rows))",
        outputs=[
            nbformat.v4.new_output(
                "display_data",
                data={
                    "text/markdown": "| year | name |\n|---|---|\n| 1986 | backprop |",
                    "text/plain": "<Markdown>",
                },
            )
        ],
    )
    return [own, injected, settings, table]


def _fake_run(folder):
    """A run folder as the runner leaves it: lesson 00 finished (its parameters and papermill's
    injected cell, maths, a figure, a link to the report), lesson 01 failed."""
    (folder / "executed").mkdir(parents=True)
    (folder / "meta").mkdir()
    nb = nbformat.v4.new_notebook()
    nb.metadata["papermill"] = {"parameters": {"results_path": BUILD_PATH}}
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = [
        nbformat.v4.new_markdown_cell("# 00 · A lesson\n\nThe loss $L = \\frac{1}{2}(y - t)^2$."),
        *_parameter_cells(),
        nbformat.v4.new_code_cell(
            "plot()",
            outputs=[
                nbformat.v4.new_output(
                    "display_data", data={"image/png": _png(), "text/plain": "<Figure>"}
                )
            ],
        ),
    ]
    nbformat.write(nb, folder / "executed" / "00_history.ipynb")
    nbformat.write(nb, folder / "executed" / "01_perceptron.ipynb")
    (folder / "meta" / "00_history.json").write_text(json.dumps({"status": "ok"}))
    (folder / "meta" / "01_perceptron.json").write_text(json.dumps({"status": "failed"}))
    (folder / "results" / "00_history_figures").mkdir(parents=True)
    (folder / "results" / "00_history_figures" / "f.png").write_bytes(base64.b64decode(_png()))
    (folder / "report.md").write_text(
        "# Reproduction report\n\n![a figure](results/00_history_figures/f.png)\n"
    )
    return folder


def test_stage_takes_finished_lessons_and_names_the_others(tmp_path):
    run = _fake_run(tmp_path / "run")
    lessons = book.stage(run, tmp_path / "src")
    assert lessons == ["00_history"]
    index = (tmp_path / "src" / "index.md").read_text()
    assert "lessons/00_history" in index and "01_perceptron" in index and "report" in index
    assert (tmp_path / "src" / "results" / "00_history_figures" / "f.png").is_file()


def test_progress_bars_are_shown_as_their_last_state(tmp_path):
    run = _fake_run(tmp_path / "run")
    path = run / "executed" / "00_history.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[-1].outputs = [
        nbformat.v4.new_output("stream", name="stdout", text=f"\r{k}/3 steps") for k in range(4)
    ] + [nbformat.v4.new_output("stream", name="stdout", text="\ndone\n")]
    nbformat.write(nb, path)
    book.stage(run, tmp_path / "src")
    shown = nbformat.read(tmp_path / "src" / "lessons" / "00_history.ipynb", as_version=4)
    assert [o.text for o in shown.cells[-1].outputs] == ["3/3 steps\ndone\n"]


def test_the_injected_parameters_are_left_out_and_the_lessons_own_kept(tmp_path):
    book.stage(_fake_run(tmp_path / "run"), tmp_path / "src")
    shown = nbformat.read(tmp_path / "src" / "lessons" / "00_history.ipynb", as_version=4)
    tags = [c.metadata.get("tags", []) for c in shown.cells]
    assert ["parameters"] in tags and ["injected-parameters"] not in tags
    assert BUILD_PATH not in (tmp_path / "src" / "lessons" / "00_history.ipynb").read_text()


def test_a_folder_that_is_not_a_run_is_refused(tmp_path):
    with pytest.raises(book.UserError, match="make reproduce"):
        book.stage(tmp_path, tmp_path / "src")


def test_check_links_finds_targets_that_do_not_exist(tmp_path):
    (tmp_path / "a.html").write_text(
        '<a href="b.html#x">ok</a><img src="img/missing.png"><a href="https://x.org">out</a>'
        '<a href="#top">here</a><a href="gone.html">broken</a>'
    )
    (tmp_path / "b.html").write_text("<p>b</p>")
    assert book.check_links(tmp_path) == ["a.html -> img/missing.png", "a.html -> gone.html"]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The site built once from the fake run (Sphinx takes a few seconds)."""
    if book._missing_tools():
        pytest.skip(book._missing_tools())
    folder = tmp_path_factory.mktemp("book")
    return book.build(_fake_run(folder / "run"), folder / "site").parent


def test_the_site_hides_the_build_paths_and_wraps_long_lines(site):
    page = (site / "lessons" / "00_history.html").read_text(encoding="utf-8")
    assert "the lesson&#39;s own knob" in page or "the lesson's own knob" in page
    assert "knob_number_11" in page  # the long settings line is there, to be wrapped
    assert "<table" in page and "backprop" in page  # a Markdown output's table is a table
    leaks = [p for p in site.rglob("*") if p.is_file() and BUILD_PATH.encode() in p.read_bytes()]
    assert leaks == []
    assert "_static/wrap.css" in page
    css = (site / "_static" / "wrap.css").read_text()
    assert "white-space: pre-wrap" in css and "div.cell_output pre" in css


def test_the_site_builds_and_renders(site):
    assert (site / "lessons" / "00_history.html").is_file() and (site / "report.html").is_file()
    assert not (site / "lessons" / "01_perceptron.html").exists()
    assert book.check_links(site) == []
    if browser.chromium_missing():
        pytest.skip(browser.chromium_missing())
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=browser.CHROMIUM, args=["--no-sandbox"])
        page = chromium.new_page()
        for name in ("index.html", "lessons/00_history.html", "report.html"):
            page.goto((site / name).as_uri())
            page.wait_for_load_state("load")
            images = page.evaluate("() => [...document.images].map(i => i.naturalWidth)")
            assert all(w > 0 for w in images), (name, images)
        page.goto((site / "lessons" / "00_history.html").as_uri())
        page.wait_for_selector("mjx-container", timeout=20_000)  # MathJax typeset the formula
        assert len(page.evaluate("() => [...document.images]")) >= 1
        chromium.close()
