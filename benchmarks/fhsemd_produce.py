"""ФХ СЭМД results produced through the admin API vs a bare producer of the same library, same bytes, same broker.

    python benchmarks/fhsemd_produce.py [--results 20000] [--rounds 5] [--clients 4] [--rate 500] [--seconds 10]

Starts `medstand up fhsemd` (its embedded broker, journal on) in a subprocess. Throughput: in interleaved rounds,
(a) HTTP clients POST /__admin/fhsemd/results in lists of 100 (generation, contract check, produce with acks=all,
SQLite record, journal) and (b) a bare kafka-python producer (acks=all, the emulator's settings) sends records with
the same keys, headers and values (read back from the topic) to the same broker. Target: (a) ≥ 0.3 of (b).
Latency: results at `--rate` per second through the admin API (lists of 10), received by a kafka-python consumer
group; end to end = consumer receipt − the header's timestamp (set when the result is built). Target p99 < 200 ms.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests
from kafka import KafkaConsumer, KafkaProducer

ROOT = Path(__file__).resolve().parents[1]
TOPIC = "semd-registration-results"
LIST = 100


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def medstand(data_dir: Path) -> Iterator[tuple[str, str]]:
    port, kafka_port = free_port(), free_port()
    env = {**os.environ, "MEDSTAND_FHSEMD_PORT": str(port), "MEDSTAND_FHSEMD_KAFKA_PORT": str(kafka_port)}
    command = [sys.executable, "-m", "emulators.cli", "up", "fhsemd", "--quiet", "--data-dir", str(data_dir)]
    with (data_dir / "medstand.log").open("wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(requests.RequestException):
                if requests.get(url + "/__admin/health", timeout=1).json().get("status") == "ok":
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"medstand did not start; see {data_dir / 'medstand.log'}")
            time.sleep(0.1)
        yield url, f"127.0.0.1:{kafka_port}"
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()


def lists(count: int, size: int, tag: str) -> list[list[dict[str, Any]]]:
    return [[{"relatesToMessage": f"{tag}-{n}-{i}", "warnings": 0} for i in range(size)] for n in range(count)]


def through_admin(url: str, batches: list[list[dict[str, Any]]], clients: int) -> float:
    """Seconds to POST every list (each answered 201) from `clients` keep-alive sessions."""
    sessions = threading.local()

    def post(batch: list[dict[str, Any]]) -> None:
        if not hasattr(sessions, "http"):
            sessions.http = requests.Session()
        answer = sessions.http.post(url + "/__admin/fhsemd/results", json=batch, timeout=60)
        assert answer.status_code == 201, answer.text

    began = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(post, batches))
    return time.perf_counter() - began


def same_bytes(bootstrap: str, count: int) -> list[tuple[bytes, bytes, list[tuple[str, bytes]]]]:
    """`count` records exactly as the emulator wrote them (key, value, headers), read back from the topic."""
    reader = KafkaConsumer(TOPIC, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False)
    found: list[tuple[bytes, bytes, list[tuple[str, bytes]]]] = []
    deadline = time.monotonic() + 60
    while len(found) < count and time.monotonic() < deadline:
        for records in reader.poll(timeout_ms=500).values():
            found.extend((r.key, r.value, list(r.headers)) for r in records)
    reader.close()
    return found[:count]


def bare(producer: KafkaProducer, records: list[tuple[bytes, bytes, list[tuple[str, bytes]]]]) -> float:
    began = time.perf_counter()
    futures = [producer.send(TOPIC, key=k, value=v, headers=h) for k, v, h in records]
    for future in futures:
        future.get(60)
    return time.perf_counter() - began


def end_to_end(url: str, bootstrap: str, rate: int, seconds: float) -> list[float]:
    """Latencies (ms) from result creation to a consumer group's receipt, at `rate` results/s via the admin API."""
    import datetime as dt

    consumer = KafkaConsumer(TOPIC, bootstrap_servers=bootstrap, group_id="bench-e2e", auto_offset_reset="latest",
                             enable_auto_commit=True, fetch_max_wait_ms=50)  # fmt: skip
    while not consumer.assignment():
        consumer.poll(timeout_ms=100)
    latencies: list[float] = []
    stop = threading.Event()

    def consume() -> None:
        while not stop.is_set():
            for records in consumer.poll(timeout_ms=50).values():
                now = time.time()
                for record in records:
                    stamp = dict(record.headers)["timestamp"].decode().replace("Z", "+00:00")
                    latencies.append((now - dt.datetime.fromisoformat(stamp).timestamp()) * 1000)

    reader = threading.Thread(target=consume)
    reader.start()
    http, size = requests.Session(), 10
    began, sent = time.perf_counter(), 0
    while time.perf_counter() - began < seconds:
        batch = [{"relatesToMessage": f"e2e-{sent + i}", "warnings": 0} for i in range(size)]
        assert http.post(url + "/__admin/fhsemd/results", json=batch, timeout=30).status_code == 201
        sent += size
        time.sleep(max(0.0, began + sent / rate - time.perf_counter()))
    deadline = time.monotonic() + 10
    while len(latencies) < sent and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    reader.join()
    consumer.close()
    return latencies


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=int, default=20_000, help="results per side, over all rounds")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--clients", type=int, default=4, help="concurrent admin API clients")
    parser.add_argument("--rate", type=int, default=500, help="results/s of the latency run")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the latency run")
    args = parser.parse_args(argv)
    per_round = max(LIST, args.results // args.rounds // LIST * LIST)
    with tempfile.TemporaryDirectory() as folder, medstand(Path(folder)) as (url, bootstrap):
        through_admin(url, lists(10, LIST, "warm"), args.clients)  # warm up, and the bytes the bare producer sends
        records = same_bytes(bootstrap, 10 * LIST)
        producer = KafkaProducer(bootstrap_servers=bootstrap, acks=-1, linger_ms=1)
        producer.partitions_for(TOPIC)
        admin_s = bare_s = 0.0
        ratios = []
        for number in range(args.rounds):
            took_admin = through_admin(url, lists(per_round // LIST, LIST, f"r{number}"), args.clients)
            took_bare = bare(producer, (records * (per_round // len(records) + 1))[:per_round])
            admin_s, bare_s = admin_s + took_admin, bare_s + took_bare
            ratios.append(took_bare / took_admin)
            print(f"round {number + 1}: admin API {per_round / took_admin:8.0f} results/s   bare producer "
                  f"{per_round / took_bare:8.0f} records/s   ratio {ratios[-1]:.2f}", flush=True)  # fmt: skip
        producer.close()
        latencies = end_to_end(url, bootstrap, args.rate, args.seconds)
    total = per_round * args.rounds
    admin_rate, bare_rate = total / admin_s, total / bare_s
    ratio = admin_rate / bare_rate
    p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
    print(f"\nresults          {total} per side, {args.rounds} interleaved rounds, lists of {LIST}, "
          f"{args.clients} admin clients; value {len(records[0][1])} bytes, 5 headers")  # fmt: skip
    print(f"{'':17}{'admin API':>14}{'bare producer':>16}   ratio (target ≥ 0.30)")
    spread = f"rounds {min(ratios):.2f}–{max(ratios):.2f}"
    print(f"{'results/s':17}{admin_rate:14.0f}{bare_rate:16.0f}   {ratio:.2f} ({spread})")
    print(f"end to end       {len(latencies)} results at {args.rate}/s: p50 {p50:.1f} ms, p99 {p99:.1f} ms "
          f"(target p99 < 200 ms)")  # fmt: skip
    return 0 if ratio >= 0.3 and p99 < 200 else 1


if __name__ == "__main__":
    sys.exit(main())
