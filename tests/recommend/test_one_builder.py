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
from falcon_operator.core.knobs import TRIAL_CONFIG_ENV
from falcon_operator.core.records import Outcome, TrialRecord
from falcon_operator.reconcile.output import recommendation
from falcon_operator.spec import parse_spec, resolve
from falcon_operator.trials.container import TRITON_CONTAINER, trial_only_args
from falcon_operator.trials.manifest import SearchRef, trial_pod

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


def test_the_recommended_triton_container_is_the_trial_pods_minus_the_trial_only_parts() -> None:
    """Same configuration, same container and config.pbtxt; the trial adds exactly its extras."""
    spec = {
        "model": {"name": "resnet-mini", "configMapRef": {"name": "w", "key": "model.onnx"},
                  "modelConfig": {"dynamic_batching": {"max_queue_delay_microseconds": 100}}},
        "searchSpace": {"gpus": [{"type": "A100", "migProfiles": ["3g.20gb"]}], "cpus": [3],
                        "batchSizes": [8], "gpuMemoryGB": [0, 4], "powerLimits": [75],
                        "instanceCounts": [1, 2], "hostMemoryGiB": 6},
    }  # fmt: skip
    rs = resolve(parse_spec(spec), load_catalog())
    config = {"batchsize": 8, "cpus": 3, "gpumem": 4.0, "gpupower": 75,
              "gputype": "A100/3g.20gb", "instances": 2}  # fmt: skip
    pod = trial_pod(rs, SearchRef("s", "ml", "uid"), 0, config)
    trial = next(c for c in pod["spec"]["containers"] if c["name"] == TRITON_CONTAINER)
    op_cm, op_dep = recommendation(
        rs, SearchRef("s", "ml", "uid"), TrialRecord(config, Outcome.OK, 1.0)
    )
    (served,) = op_dep["spec"]["template"]["spec"]["containers"]
    trial_only = {
        "args": trial_only_args("resnet-mini"),
        "env": [{"name": TRIAL_CONFIG_ENV, "value": json.dumps(config, sort_keys=True)}],
    }
    assert trial["args"] == served["args"] + trial_only["args"]
    assert trial["env"] == served["env"] + trial_only["env"]
    assert {k: v for k, v in trial.items() if k not in trial_only} == {
        k: v for k, v in served.items() if k not in trial_only
    }
    assert served["resources"]["limits"] == {
        "cpu": "3", "memory": "6Gi", "nvidia.com/mig-3g.20gb": "1"
    }  # fmt: skip
    prepare = next(c for c in pod["spec"]["initContainers"] if c["name"] == "prepare-model")
    (pbtxt,) = [e["value"] for e in prepare["env"] if e["name"] == "FALCON_MODEL_CONFIG"]
    assert op_cm["data"]["config.pbtxt"] == pbtxt
    assert "instance_group [\n  {\n    count: 2\n    kind: KIND_AUTO\n  }\n]" in pbtxt
    assert "max_queue_delay_microseconds: 100" in pbtxt
