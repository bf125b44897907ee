"""The image, checked without a Docker engine: what the build context holds, what the Dockerfile says, that
the hashed lock covers exactly the runtime dependencies and installs, and that the image is named in one place."""

from __future__ import annotations

import re
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from shared.cli import image_reference

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
LINUX = {**default_environment(), "sys_platform": "linux", "platform_system": "Linux", "python_version": "3.11"}


# --- .dockerignore ---------------------------------------------------------------------------------------


def _ignore_rules() -> list[tuple[bool, re.Pattern[str]]]:
    """(excludes, pattern) in order; Docker lets the last rule that matches a path (or a parent) decide."""
    rules = []
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = line.lstrip("!").strip("/")
        regex = ""
        for part in re.split(r"(\*\*/?|\*|\?)", pattern):
            regex += {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}.get(part, re.escape(part))
        rules.append((not negated, re.compile(regex)))
    return rules


def excluded(path: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    parts = path.split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    verdict = False
    for excludes, pattern in rules:
        if any(pattern.fullmatch(candidate) for candidate in candidates):
            verdict = excludes
    return verdict


def test_the_build_context_leaves_out_environments_history_data_and_caches() -> None:
    rules = _ignore_rules()
    for path in [
        ".venv/bin/python",
        ".venv/lib/python3.11/site-packages/litestar/app.py",
        ".git/HEAD",
        ".gotong/postgres/PG_VERSION",
        ".pytest_cache/v/cache/nodeids",
        ".mypy_cache/3.11/shared/http.data.json",
        "shared/__pycache__/http.cpython-311.pyc",
        "services/pooling/.venv/bin/python",
        "tests/conftest.py",
        "bench/results.md",
        "gotong.egg-info/PKG-INFO",
    ]:
        assert excluded(path, rules), f"{path} would be sent to the Docker build"


def test_the_build_context_keeps_everything_the_dockerfile_copies() -> None:
    rules = _ignore_rules()
    copied = [
        source
        for line in _dockerfile_lines()
        if line.startswith("COPY ") and "--from=" not in line
        for source in line.split()[1:-1]
    ]
    assert copied, "the Dockerfile copies the sources"
    for source in copied:
        assert (ROOT / source).exists(), f"COPY {source}: no such file"
        files = [source] if (ROOT / source).is_file() else _tracked(source)
        assert files, source
        for file in files:
            assert not excluded(file, rules), f"COPY {source}: .dockerignore leaves out {file}"


def _tracked(directory: str) -> list[str]:
    listed = subprocess.run(["git", "ls-files", directory], cwd=ROOT, capture_output=True, text=True, check=True)
    return [line for line in listed.stdout.splitlines() if "__pycache__" not in line]


# --- Dockerfile ------------------------------------------------------------------------------------------


def _dockerfile_lines() -> list[str]:
    """Instructions, one a line: continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text())
    return [line.strip() for line in joined.splitlines() if line.strip() and not line.strip().startswith("#")]


def _stages() -> dict[str, list[str]]:
    lines = _dockerfile_lines()
    first = next(n for n, line in enumerate(lines) if line.startswith("FROM"))
    arguments = dict(re.findall(r"^ARG (\w+)=(\S+)", "\n".join(lines[:first]), re.M))
    stages: dict[str, list[str]] = {}
    current: list[str] = []
    for line in lines:
        if line.startswith("FROM "):
            matched = re.fullmatch(r"FROM (\S+) AS (\w+)", line)
            assert matched, f"every stage is named: {line}"
            base = re.sub(r"\$\{(\w+)\}", lambda m: arguments[m[1]], matched[1])
            current = stages.setdefault(matched[2], [f"BASE {base}"])
        elif current:
            current.append(line)
    return stages


def test_the_dockerfile_builds_in_stages_from_a_pinned_python() -> None:
    stages = _stages()
    assert len(stages) >= 2, "a build stage and a runtime stage"
    for name, lines in stages.items():
        base = lines[0].removeprefix("BASE ")
        pinned = re.fullmatch(r"python:3\.11\.\d+-slim-\w+", base) or "@sha256:" in base
        assert pinned, f"stage {name} starts from {base}, not an exact Python release"


def test_the_dependencies_are_installed_from_the_hashed_lock_and_only_in_the_build_stage() -> None:
    *build_stages, runtime = _stages().values()
    installs = [line for stage in build_stages for line in stage if "pip install" in line]
    assert any("--require-hashes" in line and "-r requirements.lock" in line for line in installs), installs
    assert all("--no-deps" in line for line in installs), "nothing is resolved past the lock"
    assert not any("[test]" in line or "requirements-dev" in line for line in installs)
    assert not [line for line in runtime if "pip install" in line], "the runtime stage only copies the environment"
    assert any(line.startswith("COPY --from=build") for line in runtime)


def test_the_runtime_runs_gotong_as_an_unprivileged_user_with_a_health_check_and_labels() -> None:
    runtime = list(_stages().values())[-1]
    users = [line.split()[1] for line in runtime if line.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("root", "0"), users
    (healthcheck,) = [line for line in runtime if line.startswith("HEALTHCHECK ")]
    assert "/health" in healthcheck and "--timeout=" in healthcheck
    labels = " ".join(line for line in runtime if line.startswith("LABEL "))
    for key in ("org.opencontainers.image.version", "org.opencontainers.image.source"):
        assert f'{key}="${{' in labels, f"{key} is set from a build argument"
    assert 'ENTRYPOINT ["gotong"]' in runtime


# --- the lock --------------------------------------------------------------------------------------------


def _locked() -> dict[str, tuple[str, int, set[str]]]:
    """name → (version, number of hashes, what needs it) of requirements.lock."""
    text = (ROOT / "requirements.lock").read_text()
    locked: dict[str, tuple[str, int, set[str]]] = {}
    for block in re.split(r"\n(?=[A-Za-z])", text):
        matched = re.match(r"([A-Za-z0-9_.-]+)==([^\s;\\]+)", block)
        if matched:
            via = set(re.findall(r"^    #(?: via|  )\s*(\S.*)$", block, re.M)) - {""}
            locked[canonicalize_name(matched[1])] = (matched[2], block.count("--hash=sha256:"), via)
    return locked


def test_the_lock_pins_every_runtime_dependency_with_hashes() -> None:
    locked = _locked()
    for line in PYPROJECT["project"]["dependencies"]:
        requirement = Requirement(line)
        if requirement.marker is not None and not requirement.marker.evaluate(LINUX):
            continue
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{requirement.name} is a dependency but not in requirements.lock (run pip-compile)"
        assert requirement.specifier.contains(locked[name][0], prereleases=True), f"{name} {locked[name][0]}"
    assert all(hashes for _, hashes, _ in locked.values()), "every pinned package carries its hashes"
    text = (ROOT / "requirements.lock").read_text()
    assert "--index-url" not in text and "--find-links" not in text and "file://" not in text


def test_the_lock_holds_no_development_tools() -> None:
    """A test tool is in the lock only when a runtime dependency needs it too (PyYAML, which Litestar uses)."""
    locked = _locked()
    runtime = {canonicalize_name(Requirement(line).name) for line in PYPROJECT["project"]["dependencies"]}
    extra = PYPROJECT["project"]["optional-dependencies"]["test"]
    tools = {canonicalize_name(Requirement(line).name) for line in extra}
    for tool in (tools - runtime) & set(locked):
        needed_by = {canonicalize_name(name) for name in locked[tool][2] if "pyproject.toml" not in name}
        assert needed_by & set(locked), f"{tool} is a test tool, installed into the image for no runtime need"
    assert "pytest" not in locked and "mypy" not in locked


def test_the_lock_installs_as_hash_checked_wheels_for_the_image(tmp_path: Path) -> None:
    """pip resolves the whole lock for Linux x86-64, CPython 3.11 (the image's platform), wheels only."""
    platforms = [f"manylinux_2_{minor}_x86_64" for minor in (5, 12, 17, 24, 27, 28, 31, 34, 36)]
    platforms += ["manylinux1_x86_64", "manylinux2010_x86_64", "manylinux2014_x86_64", "linux_x86_64"]
    command = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--no-deps"]
    command += ["--only-binary=:all:", "--require-hashes", "--python-version", "3.11", "--implementation", "cp"]
    command += [arg for platform in platforms for arg in ("--platform", platform)]
    command += ["--target", str(tmp_path / "image"), "-r"]
    done = subprocess.run([*command, str(ROOT / "requirements.lock")], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    would = re.search(r"Would install (.*)", done.stdout)
    assert would is not None, done.stdout[-2000:]
    assert len(would[1].split()) == len(_locked())


# --- one name for the image ------------------------------------------------------------------------------


def test_the_image_is_named_once_and_tagged_with_the_version() -> None:
    name, tag = image_reference()
    assert tag == PYPROJECT["project"]["version"]
    gotong = Path(sysconfig.get_path("scripts")) / "gotong"
    printed = subprocess.run([gotong, "image"], capture_output=True, text=True, check=True)
    assert printed.stdout.strip() == f"{name}:{tag}"


def test_the_release_workflow_pushes_that_image_on_a_version_tag() -> None:
    workflow = yaml.safe_load((ROOT / ".github/workflows/release.yml").read_text())
    triggers = workflow[True] if True in workflow else workflow["on"]  # YAML 1.1 reads `on` as true
    assert triggers["push"]["tags"] == ["v*"]
    (job,) = workflow["jobs"].values()
    steps = job["steps"]
    naming = next(step for step in steps if step.get("id") == "image")
    assert "gotong image" in naming["run"] and "--require-hashes" in naming["run"]
    (build,) = [step for step in steps if str(step.get("uses", "")).startswith("docker/build-push-action")]
    assert build["with"]["push"] is True
    assert build["with"]["tags"] == "${{ steps.image.outputs.reference }}"
    assert "VERSION=" in build["with"]["build-args"] and "SOURCE=" in build["with"]["build-args"]
