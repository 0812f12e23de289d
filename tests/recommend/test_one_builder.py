"""One builder: the operator's recommendation and ``falcon search``'s output are the same objects.

For the same configuration and model source, :func:`falcon_operator.reconcile.output.recommendation`
(status.recommendation, the ConfigMap/Apply outputs, ``falcon export``) and the Deployment that
``falcon search`` writes differ only where the search spec says so (name, namespace, node selector).
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from falcon_operator.cli.main import main
from falcon_operator.core.catalog import load_catalog
from falcon_operator.core.records import Outcome, TrialRecord
from falcon_operator.reconcile.output import recommendation
from falcon_operator.spec import parse_spec, resolve
from falcon_operator.trials.manifest import SearchRef

MODEL = (
    Path(__file__).resolve().parents[2] / "operator/falcon_operator/data/models/resnet-mini.onnx"
)


def test_the_operator_and_falcon_search_write_the_same_deployment(tmp_path: Path) -> None:
    out = tmp_path / "rec.yaml"
    argv = ["search", str(MODEL), "--trials", "2", "--knowledge", "paper", "--no-mig",
            "--model-configmap", "weights", "--namespace", "ml", "--output", str(out)]  # fmt: skip
    assert main(argv) == 0
    search_cm, search_dep = yaml.safe_load_all(out.read_text())
    config = json.loads(search_dep["metadata"]["annotations"]["autoconfig.falcon.io/configuration"])
    spec = {
        "model": {"name": "resnet-mini", "configMapRef": {"name": "weights", "key": "model.onnx"}},
        "searchSpace": {"gpus": [{"type": str(config["gputype"])}], "cpus": [config["cpus"]],
                        "batchSizes": [config["batchsize"]], "powerLimits": [config["gpupower"]],
                        "gpuMemoryGB": [config["gpumem"]]},
    }  # fmt: skip
    rs = resolve(parse_spec(spec), load_catalog())
    best = TrialRecord(
        config,
        Outcome.OK,
        float(search_dep["metadata"]["annotations"]["autoconfig.falcon.io/objective"]),
    )
    op_cm, op_dep = recommendation(rs, SearchRef("resnet-mini", "ml", "uid"), best)
    assert op_cm == search_cm
    assert op_dep == search_dep
