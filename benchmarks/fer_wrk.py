"""The FER upload loads sent by wrk (a C load generator) to the gateway, the issue's reference stack and two ceilings.

    apt-get install wrk        # Debian/Ubuntu; the script says so and exits 2 if wrk is missing
    python benchmarks/fer_wrk.py [--seconds 6] [--rounds 3] [--only small|ingest]

`fer_small.py` and `fer_ingest.py` drive the load from Python; here a C client does, so the client's own cost is
small and the same on every server. Four servers, one at a time, each in its own process:

    raw        an asyncio Protocol on uvloop answering every request with a constant: the floor of any Python server
    asgi       a bare ASGI app under uvicorn (httptools, uvloop) that reads the body and answers a constant
    reference  the issue's reference stack, `_reference_app.py` (Starlette + orjson + fastjsonschema, no auth/storage)
    gateway    `medstand up fer --quiet`: auth, every check, the journal and SQLite persistence on

Two loads, each sent for `--seconds` per server and round: `small`, POST /api/slot with 10 slots each over 16
connections (target ≥ 4 000 requests/s), and `ingest`, 1 000 slots each over 4 connections (targets ≥ 100 000 slots/s
and batch p99 < 100 ms). wrk runs for a fixed time, so each round has a pool of pre-built bodies sized for a rate
well above what this machine reaches (`--pool`), sent in order and cycled only if exhausted: the gateway gets fresh
slots (unique ids and (resource, visit_time)) in every round, so every answer must be 200; a line says if a pool
cycled (the gateway then saw updates instead of new slots). The other servers get the same bodies. Servers take
turns within a round; the median round is printed with the range, and the issue's own figure for its reference
stack beside ours.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

import _fer_common as fer

LUA = """
local bodies = {}
for line in io.lines("%(bodies)s") do bodies[#bodies + 1] = line end
local headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer %(token)s"}
local sent = 0
request = function()
  sent = sent + 1
  return wrk.format("POST", "/api/slot", headers, bodies[(sent - 1) %% #bodies + 1])
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %%d %%d %%d %%d %%d %%d\\n", summary.requests, summary.duration,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout, latency:percentile(50), latency:percentile(99), latency.max))
end
"""


@dataclass(frozen=True)
class Load:
    name: str
    batch: int  # slots per request
    concurrency: int
    unit: str  # what the target counts
    target: float
    issue_reference: float  # the issue's figure for its reference stack, in `unit`
    pool_rate: int  # requests/s the body pool of one round is sized for


@dataclass(frozen=True)
class Run:
    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    server_cpu: float

    def rate(self, load: Load) -> float:
        return self.requests * (load.batch if load.unit == "slots/s" else 1) / self.seconds


SMALL = Load("small", 10, 16, "requests/s", 4_000, 20_000, pool_rate=2_000)
INGEST = Load("ingest", 1000, 4, "slots/s", 100_000, 600_000, pool_rate=50)


def wrk(stand: fer.Stand, bodies: list[bytes], concurrency: int, seconds: int, work: Path) -> Run:
    """Send the bodies in order (cycling) for `seconds` over `concurrency` connections; server CPU read around it."""
    body_file = work / "bodies.txt"
    body_file.write_bytes(b"\n".join(bodies) + b"\n")  # orjson never writes a raw newline
    script = work / "load.lua"
    script.write_text(LUA % {"bodies": body_file, "token": stand.token})
    before = stand.cpu_seconds()[0]
    command = ["wrk", "-t1", f"-c{concurrency}", f"-d{seconds}s", "--timeout", "30s", "-s", str(script)]
    command.append(stand.url + "/")
    printed = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    cpu = stand.cpu_seconds()[0] - before
    fer.settle(stand)
    fields = next(line for line in printed.splitlines() if line.startswith("RESULT ")).split()[1:]
    count, micros, errors, p50, p99, peak = (int(float(f)) for f in fields)
    return Run(count, micros / 1e6, errors, p50 / 1000, p99 / 1000, peak / 1000, cpu)


@contextlib.contextmanager
def ceiling(kind: str) -> Iterator[fer.Stand]:
    with tempfile.TemporaryDirectory(prefix=f"fer-{kind}-") as log_dir:
        port = fer.free_port()
        command = [sys.executable, str(Path(__file__).with_name("_ceiling_apps.py")), "--kind", kind]
        with fer.serve_process([*command, "--port", str(port)], port, Path(log_dir) / "server.log") as pid:
            yield fer.Stand(port, pid, token="")


SERVERS: dict[str, Callable[[], AbstractContextManager[fer.Stand]]] = {
    "raw": lambda: ceiling("raw"),
    "asgi": lambda: ceiling("asgi"),
    "reference": fer.reference,
    "gateway": fer.gateway,
}


def measure(load: Load, seconds: int, rounds: int, work: Path) -> dict[str, list[Run]]:
    """`rounds` × every server: the gateway's bodies are fresh in every round, the others get the same ones."""
    runs: dict[str, list[Run]] = {name: [] for name in SERVERS}
    pool = load.pool_rate * seconds
    with contextlib.ExitStack() as stack:
        stands = {name: stack.enter_context(start()) for name, start in SERVERS.items()}
        requests, _ = fer.slot_requests(stands["gateway"], pool * load.batch * rounds, load.batch)
        bodies = [request.partition(b"\r\n\r\n")[2] for request in requests]
        del requests
        for k in range(rounds):
            chunk = bodies[k * pool : (k + 1) * pool]
            for name, stand in stands.items():
                run = wrk(stand, chunk, load.concurrency, seconds, work)
                runs[name].append(run)
                cycled = "" if run.requests <= pool or name != "gateway" else f" (pool of {pool} cycled: updates)"
                print(f"  round {k + 1} {name:<10} {run.rate(load):>10,.0f} {load.unit}{cycled}", flush=True)
    return runs


def report(load: Load, seconds: int, runs: dict[str, list[Run]]) -> bool:
    print(f"\n{load.name}: {load.batch}-slot requests for {seconds} s, {load.concurrency} connections, median of "
          f"{len(runs['gateway'])} rounds [min–max]")  # fmt: skip
    print(f"{'server':<11}{load.unit:>22}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'CPU ms/req':>11}{'errors':>7}")
    medians = {}
    for name, found in runs.items():
        rates = sorted(run.rate(load) for run in found)
        median = sorted(found, key=lambda run: run.rate(load))[len(found) // 2]
        medians[name] = statistics.median(rates)
        span = f"{medians[name]:,.0f} [{rates[0]:,.0f}–{rates[-1]:,.0f}]"
        cpu = median.server_cpu / median.requests * 1000
        errors = sum(run.errors for run in found)
        print(f"{name:<11}{span:>22}{median.p50_ms:>9.1f}{median.p99_ms:>9.1f}{median.max_ms:>9.1f}{cpu:>11.3f}"
              f"{errors:>7}")  # fmt: skip
    reference = medians["reference"]
    print(f"the issue's reference figure: {load.issue_reference:,.0f} {load.unit}; measured here "
          f"{reference:,.0f} ({reference / load.issue_reference:.2f} of it)")  # fmt: skip
    scaled = load.target * reference / load.issue_reference
    print(f"target {load.target:,.0f} {load.unit}: gateway {medians['gateway']:,.0f} — "
          f"{'met' if medians['gateway'] >= load.target else 'NOT met'}; scaled by this machine's reference: "
          f"{scaled:,.0f} — {'met' if medians['gateway'] >= scaled else 'NOT met'}")  # fmt: skip
    gateway = medians["gateway"]
    print(f"gateway/reference {gateway / reference:.3f}, gateway/asgi {gateway / medians['asgi']:.3f}, "
          f"gateway/raw {gateway / medians['raw']:.3f}")  # fmt: skip
    return not any(run.errors for found in runs.values() for run in found)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=6, help="seconds per server, load and round (default 6)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per load (default 3)")
    parser.add_argument("--only", choices=["small", "ingest"], help="run one load only")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install wrk (Debian/Ubuntu) or build it from github.com/wg/wrk")
        return 2
    ok = True
    print(fer.calibration("start"), flush=True)
    with tempfile.TemporaryDirectory(prefix="fer-wrk-") as work:
        for load in (SMALL, INGEST):
            if args.only in (None, load.name):
                ok &= report(load, args.seconds, measure(load, args.seconds, args.rounds, Path(work)))
    print(fer.calibration("end"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
