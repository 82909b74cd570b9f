"""The Dockerfile and deploy/kubernetes.yaml agree with each other and with the real app and CLI."""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml
from dockerfile_parse import DockerfileParser
from starlette.testclient import TestClient

from contentapi.http.app import create_app
from contentapi.settings import SETTINGS, Settings

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
MANIFEST = ROOT / "deploy" / "kubernetes.yaml"
SETTING_ENVS = {setting.env for setting in SETTINGS}
# uvicorn's timeout_graceful_shutdown in contentapi/cli.py.
GRACEFUL_SHUTDOWN_SECONDS = 10


# Dockerfile


@pytest.fixture(scope="module")
def dockerfile() -> DockerfileParser:
    return DockerfileParser(str(DOCKERFILE))


def instructions(parser: DockerfileParser, name: str) -> list[str]:
    """The values of every `name` instruction, in order."""
    return [item["value"] for item in parser.structure if item["instruction"] == name]


def exec_form(value: str) -> list[str]:
    """A JSON (exec form) command; shell form is refused, since signals would not reach it."""
    command = json.loads(value)
    assert isinstance(command, list) and all(isinstance(part, str) for part in command)
    return command


def healthcheck_command(parser: DockerfileParser) -> list[str]:
    (value,) = instructions(parser, "HEALTHCHECK")
    options, found, command = value.partition("CMD")
    assert found, f"HEALTHCHECK has no CMD: {value!r}"
    return exec_form(command.strip())


def exposed_ports(parser: DockerfileParser) -> set[int]:
    ports = " ".join(instructions(parser, "EXPOSE")).split()
    return {int(port.split("/")[0]) for port in ports}


def copy_sources(parser: DockerfileParser) -> list[str]:
    """What COPY takes from the build context (not from another stage: --from)."""
    sources = []
    for value in instructions(parser, "COPY"):
        if any(part.startswith("--from") for part in shlex.split(value)):
            continue
        parts = [part for part in shlex.split(value) if not part.startswith("--")]
        assert len(parts) >= 2, f"COPY needs a source and a destination: {value!r}"
        sources.extend(parts[:-1])
    return sources


def dockerignored(path: str) -> bool:
    """True when .dockerignore leaves path (or a folder above it) out of the build context."""
    ignore = ROOT / ".dockerignore"
    lines = ignore.read_text().splitlines() if ignore.exists() else []
    patterns = [line.strip().strip("/") for line in lines if line.strip()]
    patterns = [pattern for pattern in patterns if not pattern.startswith("#")]
    assert not any(pattern.startswith("!") for pattern in patterns), "exceptions not handled here"
    target = PurePosixPath(path.strip("/"))
    candidates = [target, *[parent for parent in target.parents if str(parent) != "."]]
    for pattern in patterns:
        for form in {pattern, pattern.removeprefix("**/")}:
            if any(fnmatch.fnmatchcase(str(candidate), form) for candidate in candidates):
                return True
    return False


def base_image(parser: DockerfileParser) -> str:
    """The image the final stage starts from, through the stages it names (FROM app)."""
    stages: dict[str, str] = {}
    image = ""
    for value in instructions(parser, "FROM"):
        words = value.split()
        image = stages.get(words[0], words[0])
        if len(words) == 3 and words[1].lower() == "as":
            stages[words[2]] = image
    return image


def test_base_image_is_a_slim_python_the_project_supports(dockerfile: DockerfileParser) -> None:
    image = base_image(dockerfile)
    match = re.fullmatch(r"python:3\.(\d+)(?:\.\d+)?-slim(?:-\w+)?", image)
    assert match, f"base image {image!r} is not a python:3.X-slim image"
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    minimum = re.fullmatch(r">=\s*3\.(\d+)", requires)
    assert minimum and int(match.group(1)) >= int(minimum.group(1))


def test_runs_as_a_non_root_user(dockerfile: DockerfileParser) -> None:
    users = instructions(dockerfile, "USER")
    assert users, "no USER instruction: the container would run as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")


def test_exposes_8000(dockerfile: DockerfileParser) -> None:
    assert exposed_ports(dockerfile) == {8000}


def test_healthcheck_gets_readyz(dockerfile: DockerfileParser) -> None:
    # Healthy is serving: /healthz answers while the content still loads.
    command = healthcheck_command(dockerfile)
    assert command[:2] == ["python", "-c"], "slim images have no curl: use Python"
    assert "http://127.0.0.1:8000/readyz" in command[2]
    compile(command[2], "HEALTHCHECK", "exec")


def test_cmd_serves_on_all_interfaces(dockerfile: DockerfileParser) -> None:
    command = exec_form(dockerfile.cmd)
    assert command[:2] == ["contentapi", "serve"]
    assert command[command.index("--host") + 1] == "0.0.0.0"
    assert int(command[command.index("--port") + 1]) in exposed_ports(dockerfile)
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert "contentapi" in scripts


def test_cmd_options_are_accepted_by_the_cli(dockerfile: DockerfileParser) -> None:
    command = exec_form(dockerfile.cmd)
    result = subprocess.run(
        [sys.executable, "-m", "contentapi", *command[1:2], "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    options = [part for part in command if part.startswith("--")]
    assert options
    for option in options:
        assert re.search(rf"(^|[\s,/]){re.escape(option)}\b", result.stdout), (
            f"`contentapi serve --help` does not list {option}"
        )


def test_copied_files_exist_and_are_in_the_build_context(dockerfile: DockerfileParser) -> None:
    sources = copy_sources(dockerfile)
    assert sources
    for source in sources:
        assert (ROOT / source).exists(), f"COPY {source}: no such file in the repository"
        assert not dockerignored(source), f"COPY {source}: excluded by .dockerignore"


def test_installs_the_checkout_with_the_constraints(dockerfile: DockerfileParser) -> None:
    copied = {source.strip("/") for source in copy_sources(dockerfile)}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert {"pyproject.toml", project["readme"], "constraints.txt", "contentapi"} <= copied
    assert "content" in copied
    installs = [run for run in instructions(dockerfile, "RUN") if "pip install" in run]
    assert any(re.search(r"(-c|--constraint)\s+\S*constraints\.txt", run) for run in installs)


def test_dockerfile_settings_are_real_settings(dockerfile: DockerfileParser) -> None:
    names = {name for name in dockerfile.envs if name.startswith("CONTENTAPI_")}
    assert names <= SETTING_ENVS
    assert dockerfile.envs["CONTENTAPI_CONTENT_DIR"] == "/content"


def test_dockerignore_leaves_out_local_state() -> None:
    for path in [".venv", ".git", "node_modules", "tests/http-audit/node_modules", ".mypy_cache"]:
        assert dockerignored(path), f"{path} would be sent to the Docker daemon"


# The image's command, run here as the container would run it


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def container(dockerfile: DockerfileParser, tmp_path: Path) -> Iterator[int]:
    """The Dockerfile's CMD and ENV, with /content as the repo's content/ and another port."""
    port = free_port()
    command = exec_form(dockerfile.cmd)
    command[command.index("--port") + 1] = str(port)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CONTENTAPI_")}
    environ.update(dockerfile.envs)
    environ["CONTENTAPI_CONTENT_DIR"] = str(ROOT / "content")
    environ["CONTENTAPI_CACHE_DIR"] = str(tmp_path / "cache")
    if environ.get("CONTENTAPI_INDEX"):
        # The image's index stage, run here: its `contentapi build` over the same content.
        (command_line,) = [
            run for run in instructions(dockerfile, "RUN") if "contentapi build" in run
        ]
        build = shlex.split(command_line.replace("\\\n", " "))
        assert build[:3] == ["contentapi", "build", "/content"], build
        index = tmp_path / "index.sqlite"
        output = build.index("-o") + 1
        build[2], build[output] = str(ROOT / "content"), str(index)
        subprocess.run([sys.executable, "-m", "contentapi", *build[1:]], check=True, cwd=tmp_path)
        environ["CONTENTAPI_INDEX"] = str(index)
    log = tmp_path / "server.log"
    with (
        log.open("wb") as output,
        subprocess.Popen(
            [sys.executable, "-m", "contentapi", *command[1:]],
            cwd=tmp_path,
            env=environ,
            stdout=output,
            stderr=subprocess.STDOUT,
        ) as process,
    ):
        try:
            deadline = time.monotonic() + 30
            while True:
                assert process.poll() is None, f"server exited:\n{log.read_text()}"
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1):
                        break
                except OSError:
                    assert time.monotonic() < deadline, f"not ready:\n{log.read_text()}"
                    time.sleep(0.1)
            yield port
            process.send_signal(signal.SIGTERM)
            # uvicorn shuts down cleanly, then re-raises SIGTERM (exit status 143 in Docker).
            status = process.wait(timeout=GRACEFUL_SHUTDOWN_SECONDS + 5)
            assert status in (0, -signal.SIGTERM), log.read_text()
            assert "Application shutdown complete" in log.read_text()
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()


def test_healthcheck_passes_against_the_cmd(
    dockerfile: DockerfileParser, container: int, tmp_path: Path
) -> None:
    python, flag, code = healthcheck_command(dockerfile)
    assert "127.0.0.1:8000" in code
    code = code.replace("127.0.0.1:8000", f"127.0.0.1:{container}")
    result = subprocess.run(
        [sys.executable, flag, code], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    served = (tmp_path / "server.log").read_text()
    assert "pages from index file" in served, "the image's index was not served"
    assert not (tmp_path / "cache" / "pages.sqlite").exists(), "pages were parsed at start"


# Kubernetes


@pytest.fixture(scope="module")
def manifests() -> dict[str, dict[str, Any]]:
    with MANIFEST.open() as stream:
        documents = [doc for doc in yaml.safe_load_all(stream) if doc]
    kinds = [doc["kind"] for doc in documents]
    assert sorted(kinds) == ["Deployment", "Service"]
    return {doc["kind"]: doc for doc in documents}


@pytest.fixture(scope="module")
def pod(manifests: dict[str, dict[str, Any]]) -> dict[str, Any]:
    spec: dict[str, Any] = manifests["Deployment"]["spec"]["template"]["spec"]
    return spec


@pytest.fixture(scope="module")
def container_spec(pod: dict[str, Any]) -> dict[str, Any]:
    (container,) = pod["containers"]
    assert isinstance(container, dict)
    return container


def container_port(container: dict[str, Any], port: int | str) -> int:
    """A port number, or a named port of the container resolved to its number."""
    if isinstance(port, int):
        return port
    for item in container["ports"]:
        if item.get("name") == port:
            return int(item["containerPort"])
    raise AssertionError(f"the container has no port named {port!r}")


def probes(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    kinds = ("startupProbe", "readinessProbe", "livenessProbe")
    return {kind: container[kind] for kind in kinds if kind in container}


def test_three_replicas_selected_by_the_service(manifests: dict[str, dict[str, Any]]) -> None:
    deployment = manifests["Deployment"]
    assert deployment["spec"]["replicas"] == 3
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert manifests["Service"]["spec"]["selector"].items() <= labels.items()


def test_probe_paths_are_real_routes(container_spec: dict[str, Any], tmp_path: Path) -> None:
    found = probes(container_spec)
    assert {"readinessProbe", "livenessProbe"} <= found.keys()
    assert found["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert found["livenessProbe"]["httpGet"]["path"] == "/healthz"
    app = create_app(Settings(content_dir=ROOT / "content", cache_dir=tmp_path / "cache"))
    with TestClient(app) as client:
        for kind, probe in found.items():
            response = client.get(probe["httpGet"]["path"])
            assert response.status_code == 200, f"{kind}: {response.status_code}"
        assert client.get(found["readinessProbe"]["httpGet"]["path"]).json()["version"]


def test_ports_agree(
    dockerfile: DockerfileParser,
    manifests: dict[str, dict[str, Any]],
    container_spec: dict[str, Any],
) -> None:
    (port,) = container_spec["ports"]
    assert {port["containerPort"]} == exposed_ports(dockerfile)
    for kind, probe in probes(container_spec).items():
        assert container_port(container_spec, probe["httpGet"]["port"]) == 8000, kind
    (service_port,) = manifests["Service"]["spec"]["ports"]
    assert service_port["port"] == 80
    assert container_port(container_spec, service_port["targetPort"]) == port["containerPort"]


def test_runs_as_non_root_on_a_read_only_filesystem(
    dockerfile: DockerfileParser, pod: dict[str, Any], container_spec: dict[str, Any]
) -> None:
    pod_security = pod.get("securityContext", {})
    security = {**pod_security, **container_spec.get("securityContext", {})}
    assert security["runAsNonRoot"] is True
    assert security["readOnlyRootFilesystem"] is True
    assert security.get("allowPrivilegeEscalation") is False
    user = instructions(dockerfile, "USER")[-1].split(":")[0]
    if "runAsUser" in security:
        assert str(security["runAsUser"]) == user


def test_cache_dir_is_on_a_writable_volume(
    dockerfile: DockerfileParser, pod: dict[str, Any], container_spec: dict[str, Any]
) -> None:
    env = {item["name"]: item.get("value") for item in container_spec["env"]}
    cache_dir = PurePosixPath(
        env.get("CONTENTAPI_CACHE_DIR") or dockerfile.envs["CONTENTAPI_CACHE_DIR"]
    )
    assert cache_dir.is_absolute()
    empty_dirs = {volume["name"] for volume in pod["volumes"] if "emptyDir" in volume}
    mounts = [
        PurePosixPath(mount["mountPath"])
        for mount in container_spec["volumeMounts"]
        if mount["name"] in empty_dirs and not mount.get("readOnly")
    ]
    assert any(cache_dir == mount or mount in cache_dir.parents for mount in mounts)


def test_env_names_real_settings_and_the_token_comes_from_an_optional_secret(
    container_spec: dict[str, Any],
) -> None:
    env = {item["name"]: item for item in container_spec["env"]}
    assert {name for name in env if name.startswith("CONTENTAPI_")} <= SETTING_ENVS
    token = env["CONTENTAPI_PREVIEW_TOKEN"]
    assert "value" not in token, "the preview token must not be written in the manifest"
    reference = token["valueFrom"]["secretKeyRef"]
    assert reference["name"] and reference["key"]
    assert reference["optional"] is True


def test_grace_period_covers_pre_stop_and_graceful_shutdown(
    pod: dict[str, Any], container_spec: dict[str, Any]
) -> None:
    command = container_spec.get("lifecycle", {}).get("preStop", {}).get("exec", {})
    pre_stop = command.get("command", [])
    delay = int(pre_stop[1]) if pre_stop[:1] == ["sleep"] else 0
    grace = pod.get("terminationGracePeriodSeconds", 30)
    assert grace > delay + GRACEFUL_SHUTDOWN_SECONDS


def test_resources_are_set(container_spec: dict[str, Any]) -> None:
    resources = container_spec["resources"]
    assert resources["requests"]["cpu"] and resources["requests"]["memory"]
    assert resources["limits"]["memory"]
