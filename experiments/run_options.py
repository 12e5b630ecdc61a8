"""A run's options: extra notebook parameters, shards, time limits and jobs, each checked, and
:func:`checked_batch`, which checks them all before any notebook runs."""

from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass
from pathlib import Path

from course_lib.claims import CLAIMS_ENV, load_claims
from experiments import NOTEBOOKS, REPO, UserError, check_profile
from experiments.catalog import Notebook, find_notebooks, select
from experiments.environment import absolute_data_paths, thread_share

RESERVED = ("profile", "seed", "device", "results_path")  # set by the runner itself
# how a number, list, tuple, dict or quoted string starts
LITERAL_START = re.compile(r"[\[({'\"]|[+-]?\d")
SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


def check_not_reserved(name: str) -> None:
    """A parameter the runner sets itself cannot be passed as an extra one."""
    if name in RESERVED:
        raise UserError(
            f"--param {name}: the runner sets {name} itself; use --{name.replace('_', '-')}"
        )


def parse_params(items: list[str] | None) -> dict:
    """``["finetune=adam", "n_train=6000"]`` -> ``{"finetune": "adam", "n_train": 6000}``.

    Values are Python literals where they parse as one (numbers, True, None, quoted strings), else
    plain strings; text that starts like a literal (a digit, a sign and a digit, a bracket or a
    quote) but does not parse is an error, not a string.
    """
    params = {}
    for item in items or []:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise UserError(f"--param {item!r}: write NAME=VALUE, e.g. --param finetune=adam")
        check_not_reserved(name)
        params[name] = param_value(name, text.strip())
    return params


def param_value(name: str, text: str):
    """``text`` as a Python literal, or as a string when it is a plain word such as ``adam``."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError):
        if LITERAL_START.match(text):
            raise UserError(
                f"--param {name}={text}: {text!r} is not a valid Python value; to pass it as "
                f"a string, quote it: --param \"{name}='{text}'\""
            ) from None
        return text


def checked_params(params: dict | None) -> dict:
    """A copy of the extra parameters, none of them one the runner sets itself."""
    params = dict(params or {})
    for name in params:
        check_not_reserved(name)
    return params


def declared_parameters(path: Path) -> set[str]:
    """Names assigned in the notebook's cell tagged ``parameters``."""
    import papermill as pm

    return set(pm.inspect_notebook(str(path)))


def params_for(notebooks: list[Notebook], params: dict) -> dict[str, dict]:
    """Each notebook's share of ``params``; an error if a parameter matches no selected notebook."""
    declared = {nb.name: declared_parameters(nb.path) for nb in notebooks} if params else {}
    unused = [k for k in params if not any(k in names for names in declared.values())]
    if unused:
        raise UserError(
            f"no selected notebook has a parameter named {', '.join(unused)}; "
            f"see the parameters cell of the lesson (and --only)"
        )
    return {
        nb.name: {k: v for k, v in params.items() if k in declared.get(nb.name, ())}
        for nb in notebooks
    }


def parse_shard(text: str | None) -> tuple[int, int] | None:
    """``"2/4"`` -> ``(2, 4)``, the second of four slices; ``None`` stays ``None``; anything else is
    an error."""
    if text is None:
        return None
    match = SHARD.match(str(text))
    index, count = (int(g) for g in match.groups()) if match else (0, 0)
    if not (1 <= index <= count):
        raise UserError(
            f"--shard {text!r}: write I/N with 1 <= I <= N, e.g. --shard 2/4 for the second "
            f"of four slices"
        )
    return index, count


def shard_option(shard: str | tuple[int, int] | None) -> tuple[int, int] | None:
    """``run_batch``'s ``shard``, ``"i/n"`` or ``(i, n)``, checked as :func:`parse_shard` does."""
    return parse_shard(
        shard if shard is None or isinstance(shard, str) else "/".join(map(str, shard))
    )


def shard_of(notebooks: list[Notebook], shard: tuple[int, int] | None) -> list[Notebook]:
    """Slice ``shard = (i, n)`` of ``notebooks`` (lesson order): the k-th notebook, counted from 0,
    is in slice ``k % n + 1``; every notebook for ``None``.  The n slices are disjoint and cover
    them all."""
    if shard is None:
        return notebooks
    index, count = shard
    return [nb for k, nb in enumerate(notebooks) if k % count == index - 1]


def shard_text(shard: tuple[int, int] | None) -> str | None:
    return None if shard is None else f"{shard[0]}/{shard[1]}"


def default_out(profile: str, shard: tuple[int, int] | None = None) -> Path:
    """``runs/<profile>``, or ``runs/<profile>-<i>of<n>`` for a shard (each shard has its own
    folder)."""
    return REPO / "runs" / (profile if shard is None else f"{profile}-{shard[0]}of{shard[1]}")


def check_limit(seconds, name: str) -> float | None:
    """A time limit in seconds: ``None``, 0 and infinity mean none; a negative, NaN or non-number
    is an error naming ``name``."""
    if seconds is None:
        return None
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not seconds >= 0:
        raise UserError(
            f"{name}={seconds!r}: give a number of seconds, at least 0 (0 or None: no limit)"
        )
    return None if seconds == 0 or math.isinf(seconds) else float(seconds)


def check_jobs(jobs) -> int:
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise UserError(
            f"--jobs {jobs!r}: give a whole number of notebooks to run at once, at least 1"
        )
    return jobs


def selection(notebooks_dir: Path, only: list[str] | None) -> list[Notebook]:
    """The notebooks of ``notebooks_dir`` that ``only`` selects (all of them for ``None``); an
    error when there are none."""
    chosen = select(find_notebooks(notebooks_dir), only)
    if not chosen:
        raise UserError(f"no NN_slug.ipynb notebooks in {notebooks_dir}")
    return chosen


@dataclass
class Batch:
    """A run's options once checked, and what follows from them: its notebooks, run folder, each
    notebook's extra parameters and the kernels' share of the CPU threads."""

    profile: str
    seed: int
    device: str
    fresh: bool
    jobs: int
    timeout: float | None
    notebook_timeout: float | None
    shard: tuple[int, int] | None
    notebooks_dir: Path
    chosen: list[Notebook]  # the whole selection, every shard's notebooks
    notebooks: list[Notebook]  # this shard's
    params: dict
    shares: dict[str, dict]  # each notebook's share of params
    out: Path
    claims: str | None  # the kernels' repro.published reads it
    threads: int | None
    thread_env: dict[str, str]
    in_browser: bool = False  # executed in JupyterLab in Chromium (experiments.browser_run)
    max_silent_s: float = 10.0  # in the browser: the longest a cell may run showing nothing

    @property
    def kernel_env(self) -> dict[str, str]:
        """What every kernel gets added to its environment: the claims folder, thread counts."""
        return {**({CLAIMS_ENV: self.claims} if self.claims else {}), **self.thread_env}


def checked_batch(
    profile: str,
    *,
    notebooks_dir: str | Path | None,
    out: str | Path | None,
    only: list[str] | None,
    seed: int,
    device: str,
    timeout: float | None,
    notebook_timeout: float | None,
    fresh: bool,
    claims_dir: str | Path | None,
    params: dict | None,
    jobs: int,
    shard: str | tuple[int, int] | None,
    in_browser: bool = False,
    max_silent_s: float = 10.0,
) -> Batch:
    """Check every option of :func:`experiments.runner.run_batch` (a :class:`UserError` for the
    first that is wrong) and make the :class:`Batch` they describe."""
    check_profile(profile)
    jobs = check_jobs(jobs)
    if in_browser:
        check_browser(timeout)
    timeout = check_limit(timeout, "timeout")
    notebook_timeout = check_limit(notebook_timeout, "notebook_timeout")
    shard = shard_option(shard)
    load_claims(claims_dir)  # an invalid registry stops the run before anything executes
    absolute_data_paths()
    notebooks_dir = Path(notebooks_dir or NOTEBOOKS).resolve()
    chosen = selection(notebooks_dir, only)
    params = checked_params(params)
    # a parameter must fit the selection, whichever shard this is
    shares = params_for(chosen, params)
    threads, thread_env = thread_share(jobs)
    return Batch(
        profile=profile,
        seed=seed,
        device=device,
        fresh=fresh,
        jobs=jobs,
        timeout=timeout,
        notebook_timeout=notebook_timeout,
        shard=shard,
        notebooks_dir=notebooks_dir,
        chosen=chosen,
        notebooks=shard_of(chosen, shard),
        params=params,
        shares=shares,
        out=Path(out or default_out(profile, shard)).resolve(),
        claims=str(Path(claims_dir).resolve()) if claims_dir else None,
        threads=threads,
        thread_env=thread_env,
        in_browser=in_browser,
        max_silent_s=check_limit(max_silent_s, "max_silent_s") or math.inf,
    )


def check_browser(timeout: float | None) -> None:
    """A :class:`UserError` naming what is missing when lessons cannot run in Chromium here, or
    a per-cell ``timeout`` (papermill's; the browser limits only the whole notebook)."""
    from experiments.browser import chromium_missing

    reason = chromium_missing()
    if reason:
        raise UserError(f"--in-browser: {reason}")
    if timeout:
        raise UserError(
            "--timeout limits each cell under papermill; in the browser only the whole "
            "notebook is limited: give --notebook-timeout instead"
        )
