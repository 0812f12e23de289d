"""The history ConfigMap ``<search>-trials``: created with the search as owner, appended to.

Appending is a merge patch of one key, so two writers never lose each other's records, and a
record is written before its pod is deleted.
"""

from __future__ import annotations

from falcon_operator.core.errors import TransientError
from falcon_operator.reconcile.kube import Kube
from falcon_operator.trials.history import TrialEntry, decode_history, encode_entry
from falcon_operator.trials.manifest import SearchRef
from falcon_operator.trials.naming import common_labels, history_configmap


class HistoryStore:
    """Read and append the trial history of one search."""

    def __init__(self, kube: Kube, ref: SearchRef) -> None:
        self.kube, self.ref = kube, ref
        self.name = history_configmap(ref.name)

    async def ensure(self) -> None:
        """Create the (empty) ConfigMap if it does not exist yet."""
        body = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": self.name,
                "namespace": self.ref.namespace,
                "labels": common_labels(self.ref.name, "trial-history"),
                "ownerReferences": [self.ref.owner_reference()],
            },
            "data": {},
        }
        await self.kube.create_configmap(self.ref.namespace, body)

    async def load(self) -> list[TrialEntry]:
        cm = await self.kube.get_configmap(self.ref.namespace, self.name)
        if cm is None:
            return []
        return decode_history(cm.get("data"))

    async def append(self, entry: TrialEntry) -> None:
        ok = await self.kube.patch_configmap(
            self.ref.namespace, self.name, {"data": encode_entry(entry)}
        )
        if not ok:  # deleted under us: recreate, then retry once
            await self.ensure()
            if not await self.kube.patch_configmap(
                self.ref.namespace, self.name, {"data": encode_entry(entry)}
            ):
                raise TransientError(
                    f"ConfigMap {self.name} vanished while recording a trial",
                    reason="HistoryConfigMapLost",
                )
