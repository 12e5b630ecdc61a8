"""Command line: ``python -m experiments {list,run,report,check,bench}`` (installed as
``course-repro``).

python -m experiments list
python -m experiments run --profile quick [--only 04 06] [--out DIR] [--timeout S] [--fresh]
                          [--param NAME=VALUE ...] [--jobs N] [--shard I/N] [--strict]
                          [--in-browser [--if-chromium] [--max-silent-s S]]
python -m experiments report RUN [RUN ...] [--out DIR]
python -m experiments check RUN [RUN ...]
python -m experiments bench NAME [args...]
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import sys

from course_lib.claims import ClaimsError
from experiments import PROFILES, UserError
from experiments.commands import (
    cmd_bench,
    cmd_book,
    cmd_campaign,
    cmd_check,
    cmd_lab,
    cmd_list,
    cmd_new_lesson,
    cmd_report,
    cmd_run,
)


def seconds(text: str) -> float:
    """argparse type: a finite number of seconds, at least 0."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a time limit: give a finite number of seconds (0 for no limit)"
        )
    return value


def positive_int(text: str) -> int:
    """argparse type: a whole number, at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of notebooks: give a whole number, at least 1"
        )
    return value


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    """The command line: one sub-command per task, each calling its ``cmd_*`` function."""
    parser = argparse.ArgumentParser(
        prog=prog, description="Reproduce the course's published results."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    _add_list_parser(sub)
    _add_run_parser(sub)
    _add_report_parser(sub)
    _add_check_parser(sub)
    _add_bench_parser(sub)
    _add_campaign_parser(sub)
    _add_book_parser(sub)
    _add_lab_parser(sub)
    _add_new_lesson_parser(sub)
    return parser


def _add_sources(p: argparse.ArgumentParser) -> None:
    """``--notebooks`` and ``--claims``: where the notebooks and the claims are read from."""
    p.add_argument("--notebooks", metavar="DIR", help="notebook folder (default: notebooks/)")
    p.add_argument(
        "--claims",
        metavar="DIR",
        help="the lessons' homes, or a folder of NN.toml (default: $COURSE_CLAIMS, else lessons/)",
    )


def _add_list_parser(sub) -> None:
    p = sub.add_parser("list", help="notebooks found and their claims")
    _add_sources(p)
    p.set_defaults(func=cmd_list)


def _add_run_parser(sub) -> None:
    p = sub.add_parser(
        "run", help="execute notebooks with papermill into a run folder, then report"
    )
    p.add_argument(
        "--profile", default="quick", help=f"one of {', '.join(PROFILES)} (default: quick)"
    )
    p.add_argument("--only", nargs="+", metavar="NN", help="lesson numbers to run (default: all)")
    p.add_argument(
        "--out", metavar="DIR", help="run folder (default: runs/<profile>; re-running resumes)"
    )
    p.add_argument(
        "--timeout", type=seconds, metavar="SECONDS", help="limit per cell (default: none)"
    )
    p.add_argument(
        "--notebook-timeout",
        type=seconds,
        metavar="SECONDS",
        help="limit per notebook; 0 for none (default: 1800 for quick, none for full)",
    )
    p.add_argument(
        "--fresh", action="store_true", help="run every notebook again, even finished ones"
    )
    p.add_argument("--seed", type=int, default=0, help="seed passed to every notebook (default: 0)")
    p.add_argument(
        "--device", default="auto", help="device passed to every notebook (default: auto)"
    )
    p.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra parameter for the notebooks that declare it, e.g. finetune=adam (repeatable)",
    )
    _add_run_batch_options(p)
    _add_sources(p)
    p.set_defaults(func=cmd_run)


def _add_run_batch_options(p: argparse.ArgumentParser) -> None:
    """``run``'s ``--jobs``, ``--shard``, ``--strict`` and how the notebooks execute."""
    p.add_argument(
        "--jobs",
        type=positive_int,
        default=1,
        metavar="N",
        help="notebooks to run side by side (default: 1); with more than one, each kernel gets "
        "max(1, CPUs // N) threads through OMP_NUM_THREADS, OPENBLAS_NUM_THREADS, "
        "MKL_NUM_THREADS and VECLIB_MAXIMUM_THREADS, unless already set",
    )
    p.add_argument(
        "--shard",
        metavar="I/N",
        help="run only the I-th of N disjoint slices of the selected notebooks (the k-th in lesson "
        "order, from 0, goes to slice k mod N + 1), e.g. 2/4; default --out: runs/<profile>-IofN",
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help="also exit 1 when a claim with a bound for the profile fails or is unconfirmed "
        "(the claims gate, as `check` applies it)",
    )
    p.add_argument(
        "--in-browser",
        action="store_true",
        help="execute the notebooks in JupyterLab in Chromium (not papermill): each also fails on "
        "what a learner would see wrong (a warning box, a figure that did not load or is shrunk, "
        "a long silent cell, a server error); screenshots in the run folder's browser/",
    )
    p.add_argument(
        "--if-chromium",
        action="store_true",
        help="with --in-browser: where chromium or playwright is missing, say so and use papermill",
    )
    p.add_argument(
        "--max-silent-s",
        type=seconds,
        default=10.0,
        help="with --in-browser: longest a cell may run showing nothing (default: 10)",
    )


def _add_report_parser(sub) -> None:
    p = sub.add_parser(
        "report", help="write report.md and report.html for run folders (several: merged)"
    )
    p.add_argument(
        "run", nargs="+", metavar="RUN", help="run folder(s), e.g. runs/quick or runs/full-*"
    )
    p.add_argument(
        "--out",
        metavar="DIR",
        help="where to write the report (default: the run folder; required for several)",
    )
    p.add_argument(
        "--totals",
        action="store_true",
        help="print the claim totals as Markdown instead of writing the report",
    )
    p.add_argument(
        "--readme",
        nargs="+",
        metavar="FILE",
        help="rewrite the <!-- claims-totals --> and <!-- claims-lessons --> blocks of these "
        "files (the READMEs) from the run, instead of writing the report",
    )
    _add_sources(p)
    p.set_defaults(func=cmd_report)


def _add_check_parser(sub) -> None:
    p = sub.add_parser(
        "check",
        help="the claims gate on finished run folders: exit 1 on a failed notebook "
        "or a failed/unconfirmed claim with a bound",
    )
    p.add_argument(
        "run", nargs="+", metavar="RUN", help="run folder(s), judged together as one report"
    )
    _add_sources(p)
    p.set_defaults(func=cmd_check)


def _add_bench_parser(sub) -> None:
    p = sub.add_parser("bench", help="run experiments/bench_NAME.py's main(args)")
    p.add_argument("name", metavar="NAME", help="benchmark name, e.g. matmul")
    p.add_argument("args", nargs=argparse.REMAINDER, help="arguments passed to the benchmark")
    p.set_defaults(func=cmd_bench)


def _add_campaign_parser(sub) -> None:
    p = sub.add_parser(
        "gpu-campaign",
        help="every GPU measurement in one budgeted run (items skipped, with the reason, when "
        "the budget or the machine cannot run them)",
    )
    p.add_argument(
        "--budget-s",
        type=seconds,
        default=480.0,
        metavar="SECONDS",
        help="wall-clock budget for all items (default: 480)",
    )
    p.add_argument(
        "--out",
        default="gpu-run",
        metavar="DIR",
        help="folder for the JSON files and campaign.json; again: resumes",
    )
    p.add_argument("--only", metavar="ITEMS", help="comma-separated item names (default: all)")
    p.add_argument(
        "--smoke",
        action="store_true",
        help="every item's command, tiny and on the CPU (a check without a GPU)",
    )
    p.add_argument(
        "--merge",
        metavar="RUN_DIR",
        help="copy a finished campaign's JSON into experiments/results/; run nothing",
    )
    p.add_argument(
        "--plan",
        action="store_true",
        help="print the one-call recipe for a session lent a GPU machine; run nothing",
    )
    p.set_defaults(func=cmd_campaign)


def _add_book_parser(sub) -> None:
    p = sub.add_parser("book", help="build the course as a static website from a run folder")
    p.add_argument("--run", default="runs/quick", help="the run whose outputs the pages show")
    p.add_argument("--out", default="_build/book", help="where the site goes")
    p.set_defaults(func=cmd_book)


def _add_lab_parser(sub) -> None:
    p = sub.add_parser("lab", help="start JupyterLab on the notebooks with the course's settings")
    p.set_defaults(func=cmd_lab)


def _add_new_lesson_parser(sub) -> None:
    p = sub.add_parser(
        "new-lesson", help="make lesson NN's home (lessons/NN_slug/) and notebook from the template"
    )
    p.add_argument("number", help="two digits, e.g. 18")
    p.add_argument("slug", help="lower-case name, e.g. autograd: the files are NN_slug")
    p.add_argument("title", help='the lesson\'s title, e.g. "Automatic differentiation"')
    p.add_argument("--lessons", metavar="DIR", help="lessons' homes (default: lessons/)")
    p.add_argument("--notebooks", metavar="DIR", help="notebook folder (default: notebooks/)")
    p.set_defaults(func=cmd_new_lesson)


def main(argv: list[str] | None = None) -> int:
    if hasattr(sys.stdout, "reconfigure"):  # a line at a time into a log or a pipe, not at exit
        sys.stdout.reconfigure(line_buffering=True)
    prog = "python -m experiments" if sys.argv[0].endswith("__main__.py") else None
    args = build_parser(prog).parse_args(argv)
    try:
        return args.func(args)
    except (UserError, ClaimsError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return exit_interrupted()
    except BrokenPipeError:  # the reader went away (`... | head`): nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at exit
        return 141


def exit_interrupted() -> int:
    """Exit status 130 after Ctrl-C, further Ctrl-C ignored from now on (exiting: they change
    nothing).  One held down can strike again while the ignoring is being set up: it is caught
    and the set-up done again, so the learner sees one line, never a second traceback."""
    while True:
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            break
        except KeyboardInterrupt:
            continue
    print("interrupted; run the same command again to resume", file=sys.stderr)
    return 130


if __name__ == "__main__":
    sys.exit(main())
