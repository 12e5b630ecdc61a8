"""What a learner sees when a lesson runs in JupyterLab in a real browser, and the checks on it.

    python -m experiments run --in-browser               # every lesson, run as a learner runs it
    python -m experiments run --in-browser --only 01 17 --jobs 2
    python -m experiments lab                            # JupyterLab with the same settings

:mod:`experiments.browser_run` starts the JupyterLab servers and Chromium pages (Debian's
``/usr/bin/chromium``, driven by playwright); this module opens one lesson in a page, as a learner
opens the next notebook (the previous one's kernel shut down and its tab closed), runs all cells,
waits, with a bounded wait, until the kernel is idle, and judges what the page shows.  A lesson
fails on:

* an error output, or a red stderr box (a warning printed while the cells ran);
* a figure that did not load, or one shrunk to fit the page (too wide for a notebook);
* a code cell left unexecuted;
* a cell that showed nothing for longer than ``max_silent_s`` while it ran (a learner cannot
  tell a slow cell from a stuck one: long cells show a progress bar);
* an error or warning in the server's log while the lesson ran (each worker has a server of its
  own, which runs one lesson at a time, so a log line belongs to the lesson that was running);
* its kernel still running once the lesson is closed.

A screenshot of each lesson is saved next to the verdicts.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path

from experiments.lab_server import Lab, server_problems

CHROMIUM = "/usr/bin/chromium"


def chromium_missing() -> str:
    """Why the browser test cannot run here ("" when it can)."""
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright is not installed: pip install -e .[test]"
    return ""


# What the page shows; with ``polling`` true, without the figures' sizes (reading them lays the
# page out, which a big notebook pays at every poll while it runs).
_STATE_JS = """(polling = false) => {
  const cells = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell')];
  const prompts = cells.map(c => (c.querySelector('.jp-InputPrompt') || {}).textContent || '');
  const imgs = polling ? [] : [...document.querySelectorAll('.jp-OutputArea-output img')];
  return {
    cells: cells.length,
    running: prompts.filter(p => p.includes('*')).length,
    unrun: prompts.filter(p => p.trim() === '[ ]:' || p.trim() === '').length,
    errors: [...document.querySelectorAll(
      '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
      .map(e => e.textContent.slice(0, 300)),
    images: imgs.map(i => ({w: i.naturalWidth, shown: i.getBoundingClientRect().width,
                            ok: i.complete && i.naturalWidth > 0})),
    idle: !!document.querySelector('.jp-Notebook-ExecutionIndicator[data-status="idle"]'),
  };
}"""


# Records, in the page, when each code cell's prompt or output changes: ``[cell, kind, seconds,
# prompt text]``.  Run All marks every cell ``[*]`` at once; a cell starts when the one before it
# ends (its prompt shows a number), so its silences are the gaps between its start, each change
# to its output, and its end.
_WATCH_JS = """() => {
  const notebook = document.querySelector('.jp-Notebook');
  const events = window.__cellEvents = [];
  if (window.__cellWatcher) window.__cellWatcher.disconnect();  // the previous lesson's
  window.__cellWatcher = new MutationObserver(mutations => {
    const cells = [...notebook.querySelectorAll('.jp-CodeCell')], now = performance.now() / 1000;
    for (const m of mutations) {
      const el = m.target.nodeType === 1 ? m.target : m.target.parentElement;
      const cell = el && el.closest('.jp-CodeCell');
      const prompt = el && el.closest('.jp-InputPrompt');
      const output = el && el.closest('.jp-Cell-outputWrapper, .jp-OutputArea');
      if (cell && (prompt || output))
        events.push([cells.indexOf(cell), prompt ? 'prompt' : 'output', now,
                     prompt ? prompt.textContent : '']);
    }
  });
  window.__cellWatcher.observe(notebook, {subtree: true, childList: true, characterData: true});
}"""

# Closes every tab in the main area (a finished lesson's notebook, marked clean so that
# JupyterLab does not ask whether to save it).
_CLOSE_TABS_JS = """() => {
  for (const widget of [...window.jupyterapp.shell.widgets('main')]) {
    if (widget.context) widget.context.model.dirty = false;
    widget.dispose();
  }
}"""


# Saves the open notebook (the only tab) through the server, outputs included.
_SAVE_JS = "async () => { await window.jupyterapp.commands.execute('docmanager:save'); }"


def silences(events: list) -> list[dict]:
    """Each executed cell's run time and its longest stretch with no visible change, from the
    events that :data:`_WATCH_JS` records (in execution order)."""
    queued, ended, changes = {}, {}, {}
    for cell, kind, t, text in events:
        if kind == "prompt" and "*" in text:
            queued.setdefault(cell, t)
        elif kind == "prompt" and any(ch.isdigit() for ch in text):
            ended[cell] = t
        elif kind == "output":
            changes.setdefault(cell, []).append(t)
    rows, previous_end = [], None
    for cell in sorted(ended, key=ended.get):
        start = max(queued.get(cell, ended[cell]), previous_end or -1e18)
        shown = sorted(t for t in changes.get(cell, []) if start < t < ended[cell])
        marks = [start, *shown, ended[cell]]
        gap = max(b - a for a, b in zip(marks, marks[1:]))
        seconds = round(ended[cell] - start, 1)
        rows.append(dict(cell=cell + 1, seconds=seconds, silent_s=round(gap, 1)))
        previous_end = ended[cell]
    return rows


def start_all_cells(page, tries: int = 3) -> None:
    """Run > Run All Cells, once the kernel is ready; again if no cell started (a click that
    lands while the kernel is still connecting is lost)."""
    for _ in range(tries):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            select = page.locator(".jp-Dialog button:has-text('Select')")
            if select.count():  # JupyterLab asks which kernel: the notebook's own
                select.first.click()
            if page.locator("text=Python 3 (ipykernel) | Idle").count():
                break
            page.wait_for_timeout(200)
        page.click("li.lm-MenuBar-item:has-text('Run')")
        page.click(".lm-Menu-itemLabel:text-is('Run All Cells')")
        for _ in range(50):
            page.wait_for_timeout(200)
            state = page.evaluate(_STATE_JS, True)
            if state["unrun"] < state["cells"]:
                return


def open_lab(browser, lab: Lab):
    """A page with ``lab``'s JupyterLab loaded (an empty workspace of its own), kept open for the
    worker's lessons: each is opened in the running app, as a learner opens the next notebook."""
    page = browser.new_page(viewport={"width": 1440, "height": 900})  # a laptop screen
    workspace = f"lessons-{secrets.token_hex(4)}"
    page.goto(f"{lab.url}/lab/workspaces/{workspace}?reset&token={lab.token}")
    page.wait_for_function("() => window.jupyterapp !== undefined", timeout=60_000)
    page.evaluate("async () => { await window.jupyterapp.restored; }")
    return page


def run_lesson(
    page, lab: Lab, nb: Path, out: Path, timeout_s: float, max_silent_s: float, stop=None
) -> dict:
    """Open ``nb`` in the page's JupyterLab (the only notebook open: each lesson closes its tab),
    run all cells, wait (until ``stop``, a :class:`threading.Event`, is set, if given), save the
    executed notebook over ``nb`` (autosave is off) and return what the learner saw."""
    t0, n_log = time.monotonic(), len(lab.log_lines())
    page.evaluate("path => window.jupyterapp.commands.execute('docmanager:open', {path})", nb.name)
    page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=60_000)
    page.evaluate(_WATCH_JS)
    start_all_cells(page)
    timed_out = not wait_until_done(page, t0 + timeout_s, stop)
    state = page.evaluate(_STATE_JS)
    page.evaluate(_SAVE_JS)
    timing = silences(page.evaluate("() => window.__cellEvents"))
    problems = page_problems(state, timing, max_silent_s)
    if timed_out:
        problems.append(f"did not finish within {timeout_s:.0f} s")
    notes = close_lesson(page, lab, nb, out, n_log, problems)
    return dict(
        notebook=nb.stem,
        seconds=round(time.monotonic() - t0, 1),
        ok=not problems,
        problems=problems,
        server_notes=notes,
        figures=len(state["images"]),
        cells=state["cells"],
        slowest=sorted(timing, key=lambda r: -r["silent_s"])[:5],
    )


def wait_until_done(page, deadline: float, stop=None) -> bool:
    """Wait until every cell ran or Run All stopped at an error (True), or ``stop`` is set (True:
    the lesson is closed as it is), or ``deadline`` (``time.monotonic()``) passed (False)."""
    while time.monotonic() < deadline:
        page.wait_for_timeout(500)
        state = page.evaluate(_STATE_JS, True)
        if state["idle"] and state["running"] == 0 and (state["unrun"] == 0 or state["errors"]):
            return True
        if stop is not None and stop.is_set():
            return True
    return False


def page_problems(state: dict, timing: list[dict], max_silent_s: float) -> list[str]:
    """What is wrong on the page: error and stderr outputs, figures that did not load or are
    shrunk, cells silent for longer than ``max_silent_s`` (``timing``: :func:`silences`)."""
    problems = [f"stderr/error output: {e!r}" for e in state.get("errors", [])]
    images = list(enumerate(state["images"]))
    problems += [f"figure {k} did not load" for k, im in images if not im["ok"]]
    problems += [
        f"figure {k} is {im['w']} px wide, shown at {im['shown']:.0f} px (make it narrower)"
        for k, im in images
        if im["ok"] and im["shown"] < 0.75 * im["w"]
    ]
    problems += [
        f"cell {r['cell']} ran {r['seconds']:.0f} s and showed nothing for {r['silent_s']:.0f} s "
        "(give it a progress bar)"
        for r in timing
        if r["silent_s"] > max_silent_s
    ]
    return problems


def close_lesson(page, lab: Lab, nb: Path, out: Path, n_log: int, problems: list[str]) -> list:
    """Screenshot the lesson into ``out``, shut its kernel down, close its tab, and add to
    ``problems`` the server's complaints since log line ``n_log`` and a kernel left running;
    return the server-log notes that do not count (a known race)."""
    figures = page.locator(".jp-OutputArea-output img")
    if figures.count():  # the screenshot shows the lesson's last figure
        figures.last.scroll_into_view_if_needed()
    page.screenshot(path=str(out / f"{nb.stem}.png"), full_page=False)
    lab.shut_down_kernels(nb.name)  # before its tab closes: no kernel message races its socket
    page.wait_for_timeout(500)
    page.evaluate(_CLOSE_TABS_JS)
    time.sleep(0.5)  # the server logs the closed connection
    found, notes = server_problems(lab.log_lines()[n_log:])  # this server runs one lesson at a time
    problems += found
    if lab.kernels():
        problems.append("its kernel was still running after the lesson was closed")
    return notes
