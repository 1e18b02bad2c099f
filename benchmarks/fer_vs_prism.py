"""The gateway against the peer a vendor would pick: Stoplight Prism mocking the same contract, both driven by wrk.

    npm install --prefix /work/prism @stoplight/prism-cli     # anywhere outside the repo; or have `prism` on PATH
    apt-get install wrk
    python benchmarks/fer_vs_prism.py [--prism /work/prism/node_modules/.bin/prism] [--seconds 5] [--rounds 3]

Prism (`prism mock -v error contracts/fer/gateway.openapi.yaml`) validates each request against the contract and
answers an example; it checks no token, stores nothing and journals nothing. The gateway (`medstand up fer`)
does auth, every check of the seed, SQLite persistence (each answer waits for its group commit) and the journal.
The same bodies — 10-slot and 1 000-slot `POST /api/slot` — go to both, round by round in one run (the VM drifts
2–3× within minutes; only the ratio holds). Printed: req/s, p99 and gateway/Prism for each body. Exits 2 with a
clear line when Prism or wrk is missing.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import _fer_common as fer
import orjson
import fer_wrk

CONTRACT = Path(__file__).resolve().parent.parent / "contracts" / "fer" / "gateway.openapi.yaml"
DEFAULT_PRISM = "/work/prism/node_modules/.bin/prism"
LOADS = (fer_wrk.Load("10-slot", 10, 16, "requests/s", 0, 0, pool_rate=3_500),
         fer_wrk.Load("1 000-slot", 1000, 4, "requests/s", 0, 0, pool_rate=40))  # fmt: skip
FLOOR = 1.5  # the issue: the gateway stays at ≥ 1.5× Prism for 10-slot bodies


@contextlib.contextmanager
def prism(binary: str, log_dir: Path) -> Iterator[fer.Stand]:
    port = fer.free_port()
    command = [binary, "mock", "-v", "error", "-h", fer.HOST, "-p", str(port), str(CONTRACT)]
    with fer.process(command, log_dir / "prism.log") as child:
        _wait_listening(child.pid, port, log_dir / "prism.log")
        yield fer.Stand(port, child.pid, token="prism")  # Prism only checks that a bearer token is present


def _wait_listening(pid: int, port: int, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((fer.HOST, port), timeout=1):
            return
        time.sleep(0.2)
    raise RuntimeError(f"Prism (pid {pid}) did not listen on {port} within {timeout} s:\n{log.read_text()[-2000:]}")


def unique_pools(stand: fer.Stand, seconds: int, rounds: int) -> dict[str, list[bytes]]:
    """Bodies for every load from one sequence of slots, so no two bodies share an id or (resource, visit_time):
    every gateway answer must be 200 (a pool that runs out is cycled: the gateway then sees updates)."""
    sizes = {load.name: load.pool_rate * seconds * rounds * load.batch for load in LOADS}
    requests, _ = fer.slot_requests(stand, sum(sizes.values()), 10)
    records = [record for r in requests for record in orjson.loads(r.partition(b"\r\n\r\n")[2])["data"]]
    pools, start = {}, 0
    for load in LOADS:
        mine = records[start : start + sizes[load.name]]
        start += sizes[load.name]
        pools[load.name] = [orjson.dumps({"data": mine[i : i + load.batch]}) for i in range(0, len(mine), load.batch)]
    return pools


def measure(binary: str, seconds: int, rounds: int, work: Path) -> dict[str, dict[str, list[fer_wrk.Run]]]:
    runs: dict[str, dict[str, list[fer_wrk.Run]]] = {load.name: {"gateway": [], "prism": []} for load in LOADS}
    with contextlib.ExitStack() as stack:
        stands = {"gateway": stack.enter_context(fer.gateway()), "prism": stack.enter_context(prism(binary, work))}
        pools = unique_pools(stands["gateway"], seconds, rounds)
        for k in range(rounds):
            for load in LOADS:
                size = load.pool_rate * seconds
                chunk = pools[load.name][k * size : (k + 1) * size]
                for name, stand in stands.items():  # same bodies, fresh for the gateway in every round
                    run = fer_wrk.wrk(stand, chunk, load.concurrency, seconds, work)
                    runs[load.name][name].append(run)
                    print(f"  round {k + 1} {load.name:<10} {name:<8} {run.requests / run.seconds:>9,.0f} req/s"
                          f"  p99 {run.p99_ms:7.1f} ms  non-2xx/errors {run.errors}", flush=True)  # fmt: skip
    return runs


def report(runs: dict[str, dict[str, list[fer_wrk.Run]]], seconds: int) -> bool:
    print(f"\nmedian of {len(runs[LOADS[0].name]['gateway'])} interleaved rounds, {seconds} s each (wrk)")
    print(f"{'body':<12}{'gateway req/s':>15}{'p99 ms':>9}{'Prism req/s':>14}{'p99 ms':>9}{'gateway/Prism':>15}")
    ok = True
    for load in LOADS:
        medians = {}
        for name in ("gateway", "prism"):
            found = runs[load.name][name]
            medians[name] = (statistics.median(r.requests / r.seconds for r in found),
                             statistics.median(r.p99_ms for r in found))  # fmt: skip
        ratio = medians["gateway"][0] / medians["prism"][0]
        print(f"{load.name:<12}{medians['gateway'][0]:>15,.0f}{medians['gateway'][1]:>9.1f}"
              f"{medians['prism'][0]:>14,.0f}{medians['prism'][1]:>9.1f}{ratio:>14.2f}×")  # fmt: skip
        if load.batch == 10 and ratio < FLOOR:
            print(f"10-slot: gateway below {FLOOR}× Prism", file=sys.stderr)
            ok = False
        ok &= not any(r.errors for r in runs[load.name]["gateway"])
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--prism", default=shutil.which("prism") or DEFAULT_PRISM, help="the prism-cli binary")
    parser.add_argument("--seconds", type=int, default=4, help="seconds per server, body and round (default 4)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (default 3)")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("skipped: wrk is not installed (apt-get install wrk)")
        return 2
    if not Path(args.prism).exists() and shutil.which(args.prism) is None:
        print(f"skipped: Prism not found at {args.prism} (npm install --prefix /work/prism @stoplight/prism-cli)")
        return 2
    print(fer.calibration("start"), flush=True)
    with tempfile.TemporaryDirectory(prefix="fer-prism-") as work:
        ok = report(measure(args.prism, args.seconds, args.rounds, Path(work)), args.seconds)
    print(fer.calibration("end"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
