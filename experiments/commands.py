"""What each sub-command of ``python -m experiments`` does: one ``cmd_*`` function per
sub-command, called with the parsed arguments (the parser is in ``__main__``)."""

from __future__ import annotations

import importlib
import pkgutil
import re
import sys
from pathlib import Path

import experiments
from experiments import PROFILES, REPO, UserError

# a quick notebook takes a CPU minute or two; a hung one must not stall CI
NOTEBOOK_TIMEOUT = {"quick": 1800.0}


def cmd_list(args) -> int:
    """Print the notebooks found, each with its claims, then the claims still awaiting a lesson."""
    from course_lib.claims import format_bound, format_value, load_claims
    from experiments.catalog import find_notebooks

    registry = load_claims(args.claims)
    notebooks = find_notebooks(args.notebooks or experiments.NOTEBOOKS)

    def show(claims):
        for c in claims:
            published = format_value(c.published) + (f" {c.unit}" if c.unit else "")
            check = "  (to be checked)" if not c.checked else ""
            bounds = " | ".join(f"{p} {format_bound(c.bound(p))}" for p in PROFILES)
            print(f"      {c.id}: {published}{check}   [{bounds}]")

    print(f"{len(notebooks)} notebook(s):")
    for nb in notebooks:
        print(f"  {nb.lesson}  {nb.slug:<24} {nb.title}")
        show(registry.for_lesson(nb.lesson))
    awaiting = [
        lesson for lesson in registry.lessons if lesson not in {nb.lesson for nb in notebooks}
    ]
    if awaiting:
        print("awaiting a lesson:")
    for lesson in awaiting:
        claims = registry.for_lesson(lesson)
        print(f"  {lesson}  {registry.titles.get(lesson, '')}  ({len(claims)} claim(s))")
        show(claims)
    return 0


def cmd_run(args) -> int:
    """Execute notebooks; exit 1 when a notebook failed to execute, and with ``--strict`` also when
    a claim with a bound for the profile fails or is unconfirmed (otherwise failed claims are
    findings)."""
    from experiments.runner import default_out, parse_params, parse_shard, run_batch

    params = parse_params(args.param)
    shard = parse_shard(args.shard)
    whole = args.notebook_timeout
    if whole is None:
        whole = NOTEBOOK_TIMEOUT.get(args.profile)
    out = args.out or default_out(args.profile, shard)
    statuses = run_batch(
        args.profile,
        in_browser=in_browser(args),
        max_silent_s=args.max_silent_s,
        notebooks_dir=args.notebooks,
        out=out,
        only=args.only,
        seed=args.seed,
        device=args.device,
        timeout=args.timeout or None,
        notebook_timeout=whole or None,
        fresh=args.fresh,
        claims_dir=args.claims,
        params=params,
        jobs=args.jobs,
        shard=shard,
    )
    failed = [name for name, status in statuses.items() if status != "ok"]
    if failed:
        print(f"{len(failed)} notebook(s) failed: {', '.join(failed)}", file=sys.stderr)
    if args.strict:
        from experiments.report import build

        return show_gate(
            build(out, claims_dir=args.claims, notebooks_dir=args.notebooks), list(statuses)
        )
    return 1 if failed else 0


def in_browser(args) -> bool:
    """Whether ``run`` executes in the browser: ``--in-browser``, unless ``--if-chromium`` finds no
    chromium (said, and papermill runs instead)."""
    if not args.in_browser or not args.if_chromium:
        return args.in_browser
    from experiments.browser import chromium_missing

    reason = chromium_missing()
    if reason:
        print(f"lessons run with papermill, not in the browser: {reason}")
    return not reason


def show_gate(data: dict, names=None) -> int:
    """Print the claims gate's verdict on a report's data (one line per problem); 1 if it fails,
    else 0."""
    from experiments.report import gate, gate_passed

    problems = gate(data, names)
    if not problems:
        print(gate_passed(data, names))
        return 0
    print(f"claims gate failed ({data['profile']} profile): {len(problems)} problem(s)")
    for line in problems:
        print(f"  {line}")
    return 1


def cmd_report(args) -> int:
    from experiments.report import write_report

    if args.totals or args.readme:
        return show_totals(args)
    md, page = write_report(
        args.run, args.out, claims_dir=args.claims, notebooks_dir=args.notebooks
    )
    print(f"report: {md}\n        {page}")
    return 0


def show_totals(args) -> int:
    """``report --totals``: print the run's claim totals; ``--readme``: rewrite their blocks."""
    from experiments.report import build
    from experiments.report_totals import rewrite, totals_markdown

    data = build(args.run, claims_dir=args.claims, notebooks_dir=args.notebooks)
    where = ", ".join(shown_path(run) for run in args.run)
    if args.totals:
        print(totals_markdown(data, where), end="")
    for name in args.readme or []:
        path = Path(name)
        try:
            text = rewrite(path.read_text(encoding="utf-8"), data, where)
        except (OSError, ValueError) as err:
            raise UserError(f"{name}: {err}") from None
        path.write_text(text, encoding="utf-8")
        print(f"rewrote the claims blocks of {name}")
    return 0


def shown_path(run: str) -> str:
    """A run folder as the READMEs name it: relative to the repository when inside it."""
    path = Path(run).resolve()
    return path.relative_to(REPO).as_posix() if path.is_relative_to(REPO) else run


def cmd_check(args) -> int:
    """Judge finished run folders as ``run --strict`` judges its run: exit 1 on any problem."""
    from experiments.report import build

    return show_gate(build(args.run, claims_dir=args.claims, notebooks_dir=args.notebooks))


def bench_names() -> list[str]:
    return sorted(
        m.name[len("bench_") :]
        for m in pkgutil.iter_modules(experiments.__path__)
        if m.name.startswith("bench_")
    )


def cmd_bench(args) -> int:
    """Import ``experiments.bench_NAME`` and call its ``main(argv)``."""
    name = args.name.replace("-", "_")
    if not re.fullmatch(r"[A-Za-z0-9_]+", name):
        raise UserError(f"benchmark name {args.name!r} may hold only letters, digits, '_' and '-'")
    module_name = f"experiments.bench_{name}"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        if err.name != module_name:
            raise
        raise UserError(
            f"no benchmark {args.name!r}; available: {', '.join(bench_names()) or 'none'}"
        ) from None
    # an int is an exit status; anything else (a dict of timings) means success
    result = module.main(args.args)
    return result if isinstance(result, int) and not isinstance(result, bool) else 0


def cmd_book(args) -> int:
    """Build the course's website from ``--run`` into ``--out`` (:func:`experiments.book.main`)."""
    from experiments import book

    return book.main(args.run, args.out)


def cmd_lab(args) -> int:
    """Start JupyterLab in notebooks/ with :data:`experiments.lab_server.LAB_ARGS`."""
    import subprocess

    from experiments import lab_server

    argv = [sys.executable, "-m", "jupyterlab", *lab_server.LAB_ARGS]
    return subprocess.call(argv, cwd=REPO / "notebooks")


def cmd_new_lesson(args) -> int:
    """Make a lesson from lessons/_template and say what to do next."""
    from experiments.new_lesson import new_lesson

    home, notebook = new_lesson(
        args.number, args.slug, args.title, lessons=args.lessons, notebooks=args.notebooks
    )
    print(f"lesson {args.number}: {home}/ (lesson.toml, exercises.py) and {notebook}")
    print(f"run it: python -m experiments run --only {args.number} --out runs/try")
    return 0


def cmd_campaign(args) -> int:
    """Run :mod:`experiments.campaign` into ``--out``; exit 1 if an item failed."""
    from pathlib import Path

    from experiments import campaign, campaign_items

    names = {i.name for i in campaign_items.ITEMS}
    only = {n.strip() for n in args.only.split(",")} if args.only else None
    if only and only - names:
        raise UserError(
            f"--only {args.only!r}: unknown items {sorted(only - names)}; "
            f"choose from {', '.join(sorted(names))}"
        )
    if args.plan:
        print(campaign.plan(args.budget_s))
        return 0
    if args.merge:
        if not (Path(args.merge) / "campaign.json").is_file():
            raise UserError(f"--merge {args.merge}: no campaign.json there (a campaign's --out)")
        for path in campaign.merge(Path(args.merge)):
            print(f"wrote {path}")
        return 0
    record = campaign.run(Path(args.out), args.budget_s, only=only, smoke=args.smoke)
    finished = ("done", "done earlier", "skipped")
    failed = [i["name"] for i in record["items"] if i["status"] not in finished]
    if args.smoke:  # a smoke run proves every runnable item's code: none left out for time
        cut = [i["name"] for i in record["items"] if i.get("over_budget")]
        if cut:
            print(f"gpu-campaign --smoke: {', '.join(cut)} did not fit --budget-s; raise it")
        failed += cut
    return 1 if failed else 0
