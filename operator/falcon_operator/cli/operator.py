"""``falcon operator run``: run the InferenceConfigSearch controller (kopf, embedded).

``--simulate-trials`` is for clusters whose pods never run (the KWOK e2e cluster): every ready
trial pod gets the simulated fleet's measurement of its configuration (as ``falcon search``).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
from collections.abc import Sequence

from falcon_operator.cli import args as argtypes
from falcon_operator.reconcile.lease import LeaseSettings
from falcon_operator.reconcile.settings import ControllerSettings
from falcon_operator.settings import OperatorSettings
from falcon_operator.trials.manifest import TrialPodSettings
from falcon_operator.trials.simulated import SimulationSettings
from falcon_operator.trials.source import SourceImages


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``operator run`` on the ``falcon`` sub-command parsers."""
    op = subparsers.add_parser("operator", help="the Kubernetes operator")
    sub = op.add_subparsers(dest="operator_command", required=True, metavar="OPERATOR_COMMAND")
    add_run_arguments(sub.add_parser("run", help="run the InferenceConfigSearch controller"))


def add_run_arguments(r: argparse.ArgumentParser) -> None:
    r.add_argument(
        "--kubeconfig",
        default=None,
        help="kubeconfig (default: in-cluster, then $KUBECONFIG / ~/.kube/config)",
    )
    r.add_argument(
        "--namespace",
        action="append",
        default=[],
        metavar="NS",
        help="watch this namespace (repeatable; default: every namespace)",
    )
    r.add_argument(
        "--simulate-trials",
        action="store_true",
        help="measure ready trial pods on the simulated fleet (KWOK clusters)",
    )
    r.add_argument(
        "--sim-trial-seconds",
        type=argtypes.positive_float,
        default=None,
        help="simulated trials: wall-clock seconds one trial lasts "
        "(default: the budget's warm-up plus its measurement windows)",
    )
    r.add_argument(
        "--poll-seconds",
        type=argtypes.positive_float,
        default=2.0,
        help="seconds between looks at a search's trial pods (2)",
    )
    r.add_argument("--metrics-port", type=int, default=8080, help="Prometheus port (0: off)")
    r.add_argument(
        "--liveness",
        default=None,
        metavar="URL",
        help="liveness endpoint, e.g. http://0.0.0.0:8081/healthz",
    )
    r.add_argument("--no-leader-election", action="store_true", help="single replica, no Lease")
    r.add_argument("--lease-name", default="falcon-operator")
    r.add_argument(
        "--lease-namespace",
        default=None,
        help="default: $POD_NAMESPACE, else the first --namespace, else default",
    )
    r.add_argument(
        "--lease-seconds",
        type=int,
        default=15,
        help="leadership lasts this long without renewal (15)",
    )
    r.add_argument("--identity", default=None, help="this replica's name in the Lease")
    r.add_argument("--runner-image", default=TrialPodSettings().runner_image)
    r.add_argument(
        "--prepare-image",
        default=SourceImages().prepare,
        help="image of the trial pods' prepare-model init container; needs a POSIX shell "
        f"(default {SourceImages().prepare})",
    )
    r.add_argument(
        "--storage-initializer-image",
        default=SourceImages().storage_initializer,
        help="image that downloads s3://, gs:// and https:// models "
        f"(default {SourceImages().storage_initializer})",
    )
    r.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])


def settings_from(args: argparse.Namespace) -> OperatorSettings:
    namespaces = tuple(args.namespace)
    lease_ns = (
        args.lease_namespace
        or os.environ.get("POD_NAMESPACE")
        or (namespaces[0] if namespaces else "default")
    )
    simulate = (
        SimulationSettings(trial_seconds=args.sim_trial_seconds) if args.simulate_trials else None
    )
    controller = ControllerSettings(
        poll_s=args.poll_seconds,
        simulate=simulate,
        pods=TrialPodSettings(
            runner_image=args.runner_image,
            images=SourceImages(
                storage_initializer=args.storage_initializer_image, prepare=args.prepare_image
            ),
        ),
    )
    return OperatorSettings(
        kubeconfig=args.kubeconfig,
        namespaces=namespaces,
        metrics_port=args.metrics_port,
        liveness_endpoint=args.liveness,
        identity=args.identity,
        controller=controller,
        lease=None
        if args.no_leader_election
        else LeaseSettings(
            args.lease_name,
            lease_ns,
            lease_s=args.lease_seconds,
            renew_s=args.lease_seconds / 3,
            retry_s=min(2.0, args.lease_seconds / 4),
        ),
    )


def run(args: argparse.Namespace) -> int:
    """Run the operator until SIGTERM/SIGINT."""
    from falcon_operator.handlers.app import run_operator

    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    return asyncio.run(run_operator(settings_from(args)))


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m falcon_operator.handlers``: the arguments of ``falcon operator run``."""
    parser = argparse.ArgumentParser(prog="falcon-operator", description=__doc__.splitlines()[0])
    add_run_arguments(parser)
    return run(parser.parse_args(argv))
