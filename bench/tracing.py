"""What tracing costs a simple command: the code before tracing, tracing off, and tracing on (all or one in ten).

    python bench/tracing.py                          # 15 rounds of 300 commands, baseline = merge base with main
    python bench/tracing.py --quick                  # 3 rounds of 100
    python bench/tracing.py --baseline-ref 4f03866   # the code before tracing, once main has it

The command is an inspector drafting a quality standard (``POST /v1/standards``: one stream, its events appended,
relayed to NATS and projected). Four servers run at once, each quality served by uvicorn in a process of its own
as ``gotong serve`` runs it (JSON logs at INFO, written to /dev/null), on the same PostgreSQL and NATS with a
database and prefix each: "before" runs the baseline's code (``git archive`` of ``--baseline-ref``), "off" this
tree with no exporter configured, "on" this tree with tracing enabled and a ``BatchSpanProcessor`` into an
``InMemorySpanExporter`` (every span made and exported: HTTP, append, relay publish, projection), "sampled" the
same keeping one trace in ten (``parentbased_traceidratio`` 0.1, as ``deploy/k8s/components/tracing`` sets).
This process is the client: it sends the commands one after another over keep-alive HTTP and takes each round's
median latency, and reads each server's CPU time (all its threads, from /proc) around the round, after its relay
and projector have caught up. Rounds are interleaved, rotating who goes first; ratios are per round, paired.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
from _servers import bench_servers, interleaved, load, machine, markdown_table, median, ratios, scratch_database

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ("before", "off", "on", "sampled")
SECRET = "bench-secret-long-enough-for-hs256-signing"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
SETTLE_SECONDS = 0.5  # after a round, for the relay and projector to finish its events (their CPU counts)
DRAFT = {
    "name": "Rattan basket, export grade",
    "attributes": [{"name": "diameter", "unit": "cm", "nominal": "30", "lower_tolerance": "1", "upper_tolerance": "1"}],
    "defect_classes": [{"defect_class": "major", "aql": "2.5"}, {"defect_class": "minor", "aql": "4.0"}],
    "publish": False,
}


# --- a server: one configuration, quality alone, as `gotong serve quality` runs it --------------------------------


def serve(config: str, database_url: str, nats_url: str, prefix: str, port: int) -> None:
    import uvicorn

    import shared
    from services.quality.app import service as quality
    from shared.config import Settings
    from shared.http import create_app
    from shared.logs import configure_logging

    configure_logging("INFO", as_json=True)
    logging.getLogger().handlers[0].setStream(open(os.devnull, "w"))  # type: ignore[attr-defined]  # noqa: SIM115
    spans: Counter[str] = Counter()
    if config in ("on", "sampled"):
        from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExportResult
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        from opentelemetry.sdk.trace.sampling import ALWAYS_ON, ParentBased, TraceIdRatioBased

        from shared import tracing

        class Counted(InMemorySpanExporter):
            """Keeps a count of what it was sent, by the first word of the span's name."""

            def export(self, batch: Any) -> SpanExportResult:
                spans.update(span.name.split(" ")[0] for span in batch if isinstance(span, ReadableSpan))
                return super().export(batch)

        provider = TracerProvider(sampler=ParentBased(TraceIdRatioBased(0.1) if config == "sampled" else ALWAYS_ON))
        provider.add_span_processor(BatchSpanProcessor(Counted()))
        tracing.enable(provider)
    settings = replace(
        Settings(), database_url=database_url, nats_url=nats_url, nats_prefix=prefix, jwt_secret=SECRET, pool_size=5
    )
    print(json.dumps({"code": str(Path(shared.__file__).parent.parent)}), flush=True)
    signal.signal(signal.SIGTERM, lambda *_: None)  # uvicorn raises it again once stopped: carry on and report
    uvicorn.run(create_app(settings, [quality]), host="127.0.0.1", port=port, log_config=None, access_log=False)
    if config in ("on", "sampled"):
        provider.shutdown()
    print(json.dumps({"spans": spans}), flush=True)


# --- the client ------------------------------------------------------------------------------------------------


@dataclass
class Server:
    config: str
    process: subprocess.Popen[str]
    url: str
    cpu: list[float] = field(default_factory=list)
    means: list[float] = field(default_factory=list)
    commands: int = 0

    def cpu_seconds(self) -> float:
        """User and system time of every thread of the server so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def line(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        text = self.process.stdout.readline()
        if not text:
            raise RuntimeError(f"server {self.config} stopped")
        answer: dict[str, Any] = json.loads(text)
        return answer


def start(config: str, root: Path, database_url: str, nats_url: str) -> Server:
    from shared.dev import free_port

    port = free_port()
    arguments = [sys.executable, str(Path(__file__).resolve()), "--serve", config, "--root", str(root), "--port"]
    arguments += [str(port), "--database-url", database_url, "--nats-url", nats_url, "--prefix", f"bench{config}"]
    process = subprocess.Popen(arguments, stdout=subprocess.PIPE, text=True, cwd=root)
    return Server(config, process, f"http://127.0.0.1:{port}")


async def ready(client: httpx.AsyncClient, server: Server, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if (await client.get(f"{server.url}/ready")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if server.process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"server {server.config} did not become ready")
        await asyncio.sleep(0.2)


async def commands(client: httpx.AsyncClient, server: Server, count: int, headers: dict[str, str]) -> float:
    """``count`` commands one after another; the median latency. Counts the server's CPU time per command."""
    cpu, took = server.cpu_seconds(), []
    for _ in range(count):
        started = time.perf_counter()
        response = await client.post(f"{server.url}/v1/standards", json=DRAFT, headers=headers)
        took.append(time.perf_counter() - started)
        assert response.status_code == 201, response.text
    await asyncio.sleep(SETTLE_SECONDS)
    server.cpu.append((server.cpu_seconds() - cpu) / count)
    server.means.append(statistics.mean(took))
    server.commands += count
    return statistics.median(took)


def baseline_tree(ref: str, into: Path) -> str:
    """The baseline's files (``git archive``) in ``into``; returns the commit."""
    commit = subprocess.run(["git", "rev-parse", ref], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    archive = subprocess.run(["git", "archive", "--format=tar", ref], cwd=ROOT, capture_output=True, check=True)
    tar = into / "baseline.tar"
    tar.write_bytes(archive.stdout)
    with tarfile.open(tar) as opened:
        opened.extractall(into / "tree", filter="data")
    return commit.strip()[:12]


async def conduct(args: argparse.Namespace) -> None:
    from shared.auth import Role, TokenAuthority

    headers = {
        "Authorization": f"Bearer {TokenAuthority(secret=SECRET).issue(sub='rini', role=Role.INSPECTOR, org='qc')}"
    }
    print(machine(), file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="gotong-bench-tracing-") as scratch, bench_servers() as servers:
        commit = baseline_tree(args.baseline_ref, Path(scratch))
        roots = {"before": Path(scratch) / "tree", "off": ROOT, "on": ROOT, "sampled": ROOT}
        async with (
            scratch_database(servers.postgres_url) as before_db,
            scratch_database(servers.postgres_url) as off_db,
            scratch_database(servers.postgres_url) as on_db,
            scratch_database(servers.postgres_url) as sampled_db,
            httpx.AsyncClient(timeout=30) as client,
        ):
            databases = {"before": before_db, "off": off_db, "on": on_db, "sampled": sampled_db}
            running = {c: start(c, roots[c], databases[c], servers.nats_url) for c in CONFIGS}
            spans: Counter[str] = Counter()
            try:
                for config, server in running.items():
                    assert Path(server.line()["code"]) == roots[config], f"{config} runs the wrong code"
                    await ready(client, server)
                    await commands(client, server, args.warmup, headers)
                    server.cpu.clear()
                    server.means.clear()
                    server.commands = 0

                def measure(server: Server) -> Any:
                    async def timed() -> float:
                        return await commands(client, server, args.commands, headers)

                    return timed

                results = await interleaved(args.rounds, [(c, measure(running[c])) for c in CONFIGS])
            finally:
                for server in running.values():
                    server.process.send_signal(signal.SIGTERM)
                for server in running.values():
                    server.process.wait(timeout=30)
            spans = Counter(running["on"].line()["spans"])
    report(results, running, spans, args, commit)


def report(
    results: dict[str, list[float]],
    servers: dict[str, Server],
    spans: Counter[str],
    args: argparse.Namespace,
    commit: str,
) -> None:
    def ms(values: list[float]) -> str:
        return f"{median(values) * 1000:.2f}"

    def spread(values: list[float]) -> str:
        return f"{min(values) * 1000:.2f}–{max(values) * 1000:.2f}"

    cpu = {c: s.cpu for c, s in servers.items()}
    rows = [[c, ms(results[c]), spread(results[c]), ms(servers[c].means), ms(cpu[c]), spread(cpu[c])] for c in CONFIGS]
    print(f"\n{args.rounds} rounds of {args.commands} commands (POST /v1/standards), baseline {commit}, load {load()}")
    print(markdown_table(["code", "latency ms (median)", "rounds", "mean ms", "server CPU ms/command", "rounds"], rows))
    print()
    ratio_rows = []
    for subject, baseline in (("off", "before"), ("on", "before"), ("sampled", "before"), ("on", "off")):
        latency, used = ratios(results[subject], results[baseline]), ratios(cpu[subject], cpu[baseline])
        ratio_rows.append(
            [
                f"{subject} / {baseline}",
                f"{median(latency):.3f}",
                f"{min(latency):.2f}–{max(latency):.2f}",
                f"{median(used):.3f}",
                f"{min(used):.2f}–{max(used):.2f}",
            ]
        )
    print(markdown_table(["ratio", "latency", "rounds", "CPU", "rounds"], ratio_rows))
    total = servers["on"].commands + args.warmup
    made = ", ".join(f"{name} {count / total:.2f}" for name, count in sorted(spans.items()))
    print(f"\nspans per command with tracing on: {sum(spans.values()) / total:.2f} ({made})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--commands", type=int)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--baseline-ref", help="the code before tracing (default: the merge base with main)")
    parser.add_argument("--serve", choices=CONFIGS, help=argparse.SUPPRESS)
    for hidden in ("--root", "--database-url", "--nats-url", "--prefix", "--port"):
        parser.add_argument(hidden, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        sys.path.insert(0, args.root)  # the baseline's code, or this tree's, ahead of the installed package
        for name in [m for m in sys.modules if m.split(".")[0] in ("shared", "services", "events")]:
            del sys.modules[name]
        serve(args.serve, args.database_url, args.nats_url, args.prefix, int(args.port))
        return
    if not args.baseline_ref:
        merge_base = ["git", "merge-base", "HEAD", "main"]
        args.baseline_ref = subprocess.run(
            merge_base, cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    args.rounds = args.rounds or (3 if args.quick else 15)
    args.commands = args.commands or (100 if args.quick else 300)
    asyncio.run(conduct(args))


if __name__ == "__main__":
    main()
