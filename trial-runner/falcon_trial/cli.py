"""``falcon-trial``: stress-test one model served by Triton and report in JSON.

The report goes to stdout and to the termination-message path; progress lines and the one-line
error go to stderr. Exit codes are listed in ``falcon_trial.errors``: 0 stable, 2 bad arguments,
3 server not ready, 4 model not found, 5 all requests failed, 6 unstable (report still
written), 7 server lost mid-run, 8 model inputs unsupported, 9 termination log not writable,
10 the server failed to load the model.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Sequence
from typing import NoReturn

from falcon_trial import __version__
from falcon_trial.errors import EXIT_UNSTABLE, SettingsError, TrialError
from falcon_trial.report import (
    build_report,
    check_writable,
    encode,
    error_report,
    fit,
    write_termination_log,
)
from falcon_trial.runner import run
from falcon_trial.settings import (
    DEFAULT_TERMINATION_LOG,
    PROTOCOLS,
    InputSettings,
    LoadSettings,
    MeasureSettings,
    ReportSettings,
    ServerSettings,
    Settings,
)

PROG = "falcon-trial"


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one line (no usage block), exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{PROG}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description=(__doc__ or "").splitlines()[0])
    a = p.add_argument
    a("--version", action="version", version=f"{PROG} {__version__}")
    a("--url", default="http://127.0.0.1:8000", help="server URL (default: %(default)s)")
    a("--model", required=True, help="model name")
    a("--model-version", default="", help="model version (default: the server's choice)")
    a("--protocol", choices=PROTOCOLS, default="http", help="default: %(default)s")
    load = p.add_mutually_exclusive_group()
    load.add_argument("--concurrency", type=int, default=1, help="closed-loop workers (default 1)")
    load.add_argument("--sweep", type=int, metavar="MAX", help="sweep 1,2,4,... up to MAX")
    a("--slo-p99-ms", type=float, help="p99 SLO: ends a sweep, reported as slo_met")
    a("--min-gain", type=float, default=0.05, help="sweep stops below this gain (default 0.05)")
    a("--batch-size", type=int, default=1, help="batch dimension of each request (default 1)")
    a("--dynamic-dim", type=int, default=16, help="value of other -1 dimensions (default 16)")
    a("--seed", type=int, default=0, help="seed of the random inputs (default 0)")
    a("--warmup-s", type=float, default=3.0, help="warm-up seconds (default 3)")
    a("--window-s", type=float, default=3.0, help="measurement window seconds (default 3)")
    a("--max-windows", type=int, default=10, help="windows before giving up (default 10)")
    a("--stable-windows", type=int, default=3, help="windows that must agree (default 3)")
    a("--tolerance", type=float, default=0.10, help="stability tolerance (default 0.10)")
    a("--ready-timeout-s", type=float, default=120.0, help="readiness deadline (default 120)")
    a("--request-timeout-s", type=float, default=30.0, help="per-request timeout (default 30)")
    a("--termination-log", metavar="PATH", help=f"report path (default {DEFAULT_TERMINATION_LOG})")
    a("--quiet", action="store_true", help="no progress lines on stderr")
    return p


def settings_from_args(ns: argparse.Namespace) -> Settings:
    """``Settings`` from parsed arguments (``SettingsError`` on an invalid value)."""
    return Settings(
        server=ServerSettings(
            url=ns.url,
            protocol=ns.protocol,
            model=ns.model,
            model_version=ns.model_version,
            ready_timeout_s=ns.ready_timeout_s,
            request_timeout_s=ns.request_timeout_s,
        ),
        inputs=InputSettings(batch_size=ns.batch_size, dynamic_dim=ns.dynamic_dim, seed=ns.seed),
        measure=MeasureSettings(
            warmup_s=ns.warmup_s,
            window_s=ns.window_s,
            max_windows=ns.max_windows,
            stable_windows=ns.stable_windows,
            tolerance=ns.tolerance,
        ),
        load=LoadSettings(
            concurrency=ns.concurrency,
            sweep_max=ns.sweep,
            min_gain=ns.min_gain,
            slo_p99_ms=ns.slo_p99_ms,
        ),
        report=ReportSettings(
            termination_log=ns.termination_log or DEFAULT_TERMINATION_LOG,
            termination_log_required=ns.termination_log is not None,
            quiet=ns.quiet,
        ),
    )


def _emit(text: str, full: str, settings: Settings) -> None:
    print(full, flush=True)
    write_termination_log(text, settings.report)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; the process exit code."""
    ns = build_parser().parse_args(argv)
    try:
        settings = settings_from_args(ns)
    except SettingsError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return exc.exit_code

    def log(line: str) -> None:
        if not settings.report.quiet:
            print(f"{PROG}: {line}", file=sys.stderr, flush=True)

    try:
        check_writable(settings.report)
        result = run(settings, log=log)
        report = build_report(settings, result)
        _emit(fit(report, settings.report.max_bytes), encode(report), settings)
    except TrialError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr, flush=True)
        report = error_report(settings, exc)
        with contextlib.suppress(TrialError):  # the first error is the one to report
            _emit(fit(report, settings.report.max_bytes), encode(report), settings)
        return exc.exit_code
    if report.exit_code == EXIT_UNSTABLE:
        windows = len(result.measurement.windows)
        print(
            f"{PROG}: warning: measurement not stable after {windows} windows "
            f"(report written, exit code {EXIT_UNSTABLE})",
            file=sys.stderr,
        )
    return report.exit_code


if __name__ == "__main__":
    sys.exit(main())
