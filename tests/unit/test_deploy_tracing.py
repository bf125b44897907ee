"""Traces on Kubernetes: off in the overlays as shipped; the tracing component, added to an overlay, gives every
service the OTEL_* settings that turn its exporter on, and they mean to Gotong what the component says."""

from __future__ import annotations

import os
import subprocess
import sysconfig
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from shared import tracing
from tests.unit.test_deploy_kubernetes import K8S, KUBERNETES, OVERLAYS, check_cnpg_cluster, rendered

pytestmark = pytest.mark.unit
COMPONENT = K8S / "components" / "tracing"


def with_tracing(overlay: str, scratch: Path) -> list[dict[str, Any]]:
    """``overlay`` with the tracing component, as an operator's own overlay would list it."""
    (scratch / "kustomization.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "kustomize.config.k8s.io/v1beta1",
                "kind": "Kustomization",
                "resources": [os.path.relpath(K8S / "overlays" / overlay, scratch)],
                "components": [os.path.relpath(COMPONENT, scratch)],
            }
        )
    )
    kubectl = Path(sysconfig.get_path("scripts")) / "kubectl"
    done = subprocess.run([str(kubectl), "kustomize", str(scratch)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return [document for document in yaml.safe_load_all(done.stdout) if document]


def served_environments(objects: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    """Each `gotong serve <service>` container's literal variables, with the ConfigMaps it loads."""
    config_maps = {o["metadata"]["name"]: o.get("data", {}) for o in objects if o["kind"] == "ConfigMap"}
    found = {}
    for deployment in (o for o in objects if o["kind"] == "Deployment"):
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        variables: dict[str, str] = {}
        for source in container.get("envFrom", []):
            variables.update(config_maps[source["configMapRef"]["name"]])
        variables.update({v["name"]: v["value"] for v in container.get("env", []) if "value" in v})
        found[container["args"][1]] = variables
    return found


@pytest.mark.parametrize("overlay", sorted(OVERLAYS))
def test_the_overlays_as_shipped_do_not_trace(overlay: str) -> None:
    for service, variables in served_environments(rendered(overlay)).items():
        assert not [name for name in variables if name.startswith("OTEL_")], service


@pytest.mark.parametrize("overlay", sorted(OVERLAYS))
def test_the_tracing_component_turns_every_service_s_exporter_on(
    overlay: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    objects = with_tracing(overlay, tmp_path)
    for item in objects:
        if item["apiVersion"].startswith("postgresql.cnpg.io/"):
            check_cnpg_cluster(item)
        else:
            kubernetes_validate.validate(item, KUBERNETES, strict=True)
    environments = served_environments(objects)
    assert len(environments) == len(served_environments(rendered(overlay)))
    for service, variables in environments.items():
        for name in [n for n in os.environ if n.startswith("OTEL_")]:
            monkeypatch.delenv(name)
        for name, value in variables.items():
            if name.startswith("OTEL_"):
                monkeypatch.setenv(name, value)
        provider = tracing.provider_from_environment([service])
        assert provider is not None, f"{service} would not trace"
        try:
            attributes = provider.resource.attributes
            assert attributes["service.name"] == f"gotong-{service}"
            assert attributes["service.namespace"] == "gotong"
            assert "TraceIdRatioBased{0.1}" in provider.sampler.get_description()
        finally:
            provider.shutdown()
