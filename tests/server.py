"""Start the real server (uvicorn via the CLI) in a subprocess on a free port, for tests."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

ROOT = Path(__file__).resolve().parent.parent
# What each worker logs once it serves its content (contentapi/http/starting.py).
READY_LINE = re.compile(r"^process \d+ ready: content version ", re.MULTILINE)


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    """A running `contentapi serve`: its URL and its process (with one worker, the worker)."""

    url: str
    process: subprocess.Popen[bytes]
    log: IO[bytes]

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def rss_bytes(self) -> int:
        """The process's resident memory now (VmRSS in /proc/<pid>/status)."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        (line,) = [line for line in status.splitlines() if line.startswith("VmRSS:")]
        kilobytes = int(line.split()[1])
        return kilobytes * 1024

    def output(self) -> str:
        """Everything the server wrote to stdout and stderr so far."""
        self.log.seek(0)
        return self.log.read().decode(errors="replace")


@contextmanager
def running_server(
    content: Path,
    *args: str,
    env: Mapping[str, str] | None = None,
    timeout: float = 30.0,
) -> Iterator[str]:
    """Run `contentapi serve` on content; yields its base URL and stops it afterwards."""
    with started_server(content, *args, env=env, timeout=timeout) as server:
        yield server.url


@contextmanager
def launched_server(
    content: Path, *args: str, env: Mapping[str, str] | None = None
) -> Iterator[ServerProcess]:
    """`contentapi serve` on content, started and not waited for (its port may not be open
    yet); stopped afterwards."""
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CONTENTAPI_")}
    environ.update(env or {})
    command = [
        sys.executable,
        "-m",
        "contentapi",
        "serve",
        "--content",
        str(content),
        "--port",
        str(port),
        "--host",
        "127.0.0.1",
        *args,
    ]
    # A file, not a pipe: nobody reads the log while tests run, and a full pipe blocks the server.
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(command, cwd=ROOT, env=environ, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield ServerProcess(f"http://127.0.0.1:{port}", process, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@contextmanager
def started_server(
    content: Path,
    *args: str,
    env: Mapping[str, str] | None = None,
    timeout: float = 30.0,
) -> Iterator[ServerProcess]:
    """running_server, yielding the process as well as the URL once every worker is ready
    (with --workers N, /readyz answers from whichever worker the kernel picks)."""
    workers = int(args[args.index("--workers") + 1]) if "--workers" in args else 1
    with launched_server(content, *args, env=env) as server:
        deadline = time.monotonic() + timeout
        while True:
            if server.process.poll() is not None:
                output = server.output()
                raise RuntimeError(f"server exited with {server.process.returncode}:\n{output}")
            try:
                ready = httpx.get(server.url + "/readyz", timeout=1).status_code == 200
                if ready and len(READY_LINE.findall(server.output())) >= workers:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server on {server.url} not ready after {timeout} s")
            time.sleep(0.1)
        yield server
