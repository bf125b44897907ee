"""What tracing costs a simple command: the code before tracing, tracing off, and tracing on into memory.

    python bench/tracing.py                          # 9 rounds of 300 commands each, baseline = merge base with main
    python bench/tracing.py --quick                  # 3 rounds of 100
    python bench/tracing.py --baseline-ref 4f03866   # the code before tracing, once main has it

The command is an inspector drafting a quality standard (``POST /v1/standards``: one event appended, relayed to
NATS and projected), sent one after another through the ASGI app (no network) with JSON logs written as in
production (to /dev/null). Three worker processes run at once on the same PostgreSQL and NATS, each on a database
and prefix of its own: "before" runs the baseline's code (``git archive`` of ``--baseline-ref``), "off" this tree
with no exporter configured, "on" this tree with tracing enabled and a ``BatchSpanProcessor`` into an
``InMemorySpanExporter`` (so every span is made and exported: HTTP, append, relay publish and projection; the
relay's and the projector's run on the same event loop between commands). Rounds are interleaved, rotating who
goes first; ratios are per round, paired.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

from _servers import bench_servers, interleaved, load, machine, markdown_table, median, ratios, scratch_database

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ("before", "off", "on")
DRAFT = {
    "name": "Rattan basket, export grade",
    "attributes": [{"name": "diameter", "unit": "cm", "nominal": "30", "lower_tolerance": "1", "upper_tolerance": "1"}],
    "defect_classes": [{"defect_class": "major", "aql": "2.5"}, {"defect_class": "minor", "aql": "4.0"}],
    "publish": False,
}


# --- a worker: one configuration, serving quality in its own process -------------------------------------------


def log_as_deployed() -> None:
    """JSON lines at INFO, as `gotong serve` writes them, into /dev/null."""
    from shared.logs import configure_logging

    configure_logging("INFO", as_json=True)
    logging.getLogger().handlers[0].setStream(open(os.devnull, "w"))  # type: ignore[attr-defined]  # noqa: SIM115


async def work(config: str, database_url: str, nats_url: str, prefix: str) -> None:
    from litestar.testing import AsyncTestClient

    from services.quality.app import service as quality
    from shared.auth import Role, TokenAuthority
    from shared.config import Settings
    from shared.http import create_app

    exporter = None
    if config == "on":
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        from shared import tracing

        exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(BatchSpanProcessor(exporter))
        tracing.enable(provider)
    secret = "bench-secret-long-enough-for-hs256-signing"
    settings = replace(
        Settings(), database_url=database_url, nats_url=nats_url, nats_prefix=prefix, jwt_secret=secret, pool_size=5
    )
    headers = {
        "Authorization": f"Bearer {TokenAuthority(secret=secret).issue(sub='rini', role=Role.INSPECTOR, org='qc')}"
    }
    app = create_app(settings, [quality])
    async with AsyncTestClient(app=app) as client:
        import shared

        print(json.dumps({"ready": True, "code": str(Path(shared.__file__).parent.parent)}), flush=True)
        loop = asyncio.get_running_loop()
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            count, took, cpu = int(line), [], time.process_time()
            for _ in range(count):
                started = time.perf_counter()
                response = await client.post("/v1/standards", json=DRAFT, headers=headers)
                took.append(time.perf_counter() - started)
                assert response.status_code == 201, response.text
            await asyncio.sleep(0.2)  # the relay and projector finish this round's events (their CPU counts)
            cpu = (time.process_time() - cpu) / count
            spans: Counter[str] = Counter()
            if exporter is not None:
                spans.update(span.name.split(" ")[0] for span in exporter.get_finished_spans())
                exporter.clear()
            answer = {"median": statistics.median(took), "mean": statistics.mean(took), "cpu": cpu, "spans": spans}
            print(json.dumps(answer), flush=True)


# --- the conductor ---------------------------------------------------------------------------------------------


class Worker:
    def __init__(self, config: str, root: Path, database_url: str, nats_url: str) -> None:
        self.config = config
        self.spans: Counter[str] = Counter()
        self.means: list[float] = []
        self.cpu: list[float] = []
        self.commands = 0
        arguments = [sys.executable, str(Path(__file__).resolve()), "--worker", config, "--root", str(root)]
        arguments += ["--database-url", database_url, "--nats-url", nats_url, "--prefix", f"bench{config}"]
        self.process = subprocess.Popen(arguments, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=root)

    def answer(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"worker {self.config} stopped")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def run(self, count: int) -> float:
        stdin: IO[str] | None = self.process.stdin
        assert stdin is not None
        stdin.write(f"{count}\n")
        stdin.flush()
        answer = self.answer()
        self.spans.update(answer["spans"])
        self.commands += count
        self.means.append(float(answer["mean"]))
        self.cpu.append(float(answer["cpu"]))
        return float(answer["median"])

    def stop(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


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
    ref = args.baseline_ref
    print(machine(), file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="gotong-bench-tracing-") as scratch, bench_servers() as servers:
        commit = baseline_tree(ref, Path(scratch))
        roots = {"before": Path(scratch) / "tree", "off": ROOT, "on": ROOT}
        async with (
            scratch_database(servers.postgres_url) as before_db,
            scratch_database(servers.postgres_url) as off_db,
            scratch_database(servers.postgres_url) as on_db,
        ):
            databases = {"before": before_db, "off": off_db, "on": on_db}
            workers = {c: Worker(c, roots[c], databases[c], servers.nats_url) for c in CONFIGS}
            try:
                for name, worker in workers.items():
                    assert Path(worker.answer()["code"]) == roots[name], f"{name} runs the wrong code"
                for worker in workers.values():
                    worker.run(args.warmup)
                    worker.spans.clear()
                    worker.means.clear()
                    worker.cpu.clear()
                    worker.commands = 0

                def measure(worker: Worker) -> Any:
                    async def timed() -> float:
                        return worker.run(args.commands)

                    return timed

                results = await interleaved(args.rounds, [(c, measure(workers[c])) for c in CONFIGS])
            finally:
                for worker in workers.values():
                    worker.stop()
    report(results, workers, args, commit)


def report(results: dict[str, list[float]], workers: dict[str, Worker], args: argparse.Namespace, commit: str) -> None:
    """Per configuration: each round's median latency of a command and the process's CPU time per command (the
    relay's and projector's work included); ratios paired by round."""

    def ms(values: list[float]) -> str:
        return f"{median(values) * 1000:.2f}"

    def spread(values: list[float]) -> str:
        return f"{min(values) * 1000:.2f}–{max(values) * 1000:.2f}"

    cpu = {c: w.cpu for c, w in workers.items()}
    rows = [[c, ms(results[c]), spread(results[c]), ms(workers[c].means), ms(cpu[c]), spread(cpu[c])] for c in CONFIGS]
    print(f"\n{args.rounds} rounds of {args.commands} commands (POST /v1/standards), baseline {commit}, load {load()}")
    headers = ["code", "latency ms (median)", "rounds", "mean ms", "CPU ms/command", "rounds"]
    print(markdown_table(headers, rows))
    print()
    ratio_rows = []
    for subject, baseline in (("off", "before"), ("on", "before"), ("on", "off")):
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
    on = workers["on"]
    made = ", ".join(f"{name} {count / on.commands:.2f}" for name, count in sorted(on.spans.items()))
    print(f"\nspans per command with tracing on: {sum(on.spans.values()) / on.commands:.2f} ({made})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--commands", type=int)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--baseline-ref", help="the code before tracing (default: the merge base with main)")
    parser.add_argument("--worker", choices=CONFIGS, help=argparse.SUPPRESS)
    parser.add_argument("--root", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--nats-url", help=argparse.SUPPRESS)
    parser.add_argument("--prefix", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        sys.path.insert(0, args.root)  # the baseline's code, or this tree's, ahead of the installed package
        for name in [m for m in sys.modules if m.split(".")[0] in ("shared", "services", "events")]:
            del sys.modules[name]
        log_as_deployed()
        asyncio.run(work(args.worker, args.database_url, args.nats_url, args.prefix))
        return
    if not args.baseline_ref:
        merge_base = ["git", "merge-base", "HEAD", "main"]
        args.baseline_ref = subprocess.run(
            merge_base, cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    args.rounds = args.rounds or (3 if args.quick else 9)
    args.commands = args.commands or (100 if args.quick else 300)
    asyncio.run(conduct(args))


if __name__ == "__main__":
    main()
