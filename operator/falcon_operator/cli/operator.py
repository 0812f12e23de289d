"""``falcon operator run``: run the InferenceConfigSearch controller (kopf, embedded).

``--simulate-trials`` is for clusters whose pods never run (the KWOK e2e cluster): every ready
trial pod gets the simulated fleet's measurement of its configuration (as ``falcon search``).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from falcon_operator.cli import args as argtypes
from falcon_operator.cli.help import HelpFormatter, SubParsers, add_command
from falcon_operator.core.errors import FalconError

if TYPE_CHECKING:  # kubernetes and the controller load when the operator runs (fast --help)
    from falcon_operator.settings import OperatorSettings

RUN_DESCRIPTION = (
    "Run the InferenceConfigSearch controller (kopf) until SIGTERM/SIGINT: each search runs\n"
    "its trials as pods (Triton + falcon-trial), records them in its status and writes the\n"
    "recommended Deployment. --simulate-trials measures ready trial pods on the simulated\n"
    "fleet instead, for clusters whose pods never run (KWOK)."
)


def add_parser(subparsers: SubParsers[argparse.ArgumentParser]) -> None:
    """Register ``operator run`` on the ``falcon`` sub-command parsers."""
    op = add_command(
        subparsers,
        "operator",
        "the Kubernetes operator",
        "The InferenceConfigSearch operator: 'falcon operator run' runs its controller.",
    )
    sub = op.add_subparsers(dest="operator_command", required=True, metavar="OPERATOR_COMMAND")
    add_run_arguments(
        add_command(sub, "run", "run the InferenceConfigSearch controller", RUN_DESCRIPTION)
    )


def add_run_arguments(r: argparse.ArgumentParser) -> None:
    """The options of ``falcon operator run`` (and ``python -m falcon_operator.cli.operator``)."""
    from falcon_operator.spec.constants import TRITON_IMAGE
    from falcon_operator.trials.manifest import TrialPodSettings
    from falcon_operator.trials.source import SourceImages

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
        help="seconds between looks at a search's trial pods",
    )
    r.add_argument("--metrics-port", type=int, default=8080, help="Prometheus port (0: off)")
    r.add_argument(
        "--liveness",
        default=None,
        metavar="URL",
        help="liveness endpoint, e.g. http://0.0.0.0:8081/healthz",
    )
    r.add_argument("--no-leader-election", action="store_true", help="single replica, no Lease")
    r.add_argument(
        "--lease-name", default="falcon-operator", help="name of the leader-election Lease"
    )
    r.add_argument(
        "--lease-namespace",
        default=None,
        help="namespace of the Lease (default: $POD_NAMESPACE, else the first --namespace, "
        "else default)",
    )
    r.add_argument(
        "--lease-seconds",
        type=int,
        default=15,
        help="leadership lasts this long without renewal",
    )
    r.add_argument(
        "--identity",
        default=None,
        help="this replica's name in the Lease (default: host name and process id)",
    )
    r.add_argument(
        "--runner-image",
        default=TrialPodSettings().runner_image,
        help="image of the trial pods' falcon-trial load generator",
    )
    r.add_argument(
        "--prepare-image",
        default=SourceImages().prepare,
        help="image of the trial pods' prepare-model init container; needs a POSIX shell",
    )
    r.add_argument(
        "--storage-initializer-image",
        default=SourceImages().storage_initializer,
        help="image that downloads s3://, gs:// and https:// models",
    )
    r.add_argument(
        "--allowed-triton-image",
        action="append",
        default=[],
        metavar="PATTERN",
        help="a Triton image searches may name in spec.model.tritonImage: an exact reference or "
        "a shell pattern such as 'nvcr.io/nvidia/tritonserver:*' (repeatable; default: "
        f"{TRITON_IMAGE} only; docs/security.md)",
    )
    r.add_argument(
        "--require-image-digests",
        action="store_true",
        help="every image (the searches' Triton images and the runner, prepare and storage "
        "initializer images) must be pinned by digest, name@sha256:...",
    )
    r.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="logging level",
    )


def settings_from(args: argparse.Namespace) -> OperatorSettings:
    """The operator's settings from parsed ``operator run`` arguments."""
    from falcon_operator.reconcile.imagepolicy import ImagePolicy
    from falcon_operator.reconcile.lease import LeaseSettings
    from falcon_operator.reconcile.settings import ControllerSettings
    from falcon_operator.settings import OperatorSettings
    from falcon_operator.trials.manifest import TrialPodSettings
    from falcon_operator.trials.simulated import SimulationSettings
    from falcon_operator.trials.source import SourceImages

    namespaces = tuple(args.namespace)
    lease_ns = (
        args.lease_namespace
        or os.environ.get("POD_NAMESPACE")
        or (namespaces[0] if namespaces else "default")
    )
    simulate = (
        SimulationSettings(trial_seconds=args.sim_trial_seconds) if args.simulate_trials else None
    )
    policy = ImagePolicy(
        allowed=tuple(args.allowed_triton_image) or ImagePolicy().allowed,
        require_digest=args.require_image_digests,
    )
    policy.check_own(
        [
            ("--runner-image", args.runner_image),
            ("--prepare-image", args.prepare_image),
            ("--storage-initializer-image", args.storage_initializer_image),
        ]
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
        image_policy=policy,
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
    """Run the operator until SIGTERM/SIGINT; no usable kubeconfig is a one-line error."""
    from kubernetes.config import ConfigException

    from falcon_operator.handlers.app import run_operator

    if args.kubeconfig is not None and not os.path.isfile(args.kubeconfig):
        raise FalconError(f"kubeconfig {args.kubeconfig} does not exist")
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        return asyncio.run(run_operator(settings_from(args)))
    except ConfigException as exc:
        where = args.kubeconfig or os.environ.get("KUBECONFIG") or "in-cluster, ~/.kube/config"
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise FalconError(f"no usable kubeconfig ({where}): {text}") from None


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m falcon_operator.cli.operator``: the arguments of ``falcon operator run``."""
    parser = argparse.ArgumentParser(
        prog="falcon-operator", description=RUN_DESCRIPTION, formatter_class=HelpFormatter
    )
    add_run_arguments(parser)
    try:
        return run(parser.parse_args(argv))
    except FalconError as exc:
        print(f"falcon-operator: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
