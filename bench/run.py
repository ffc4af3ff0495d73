#!/usr/bin/env python3
"""weft's benchmark suite: weft, go-libp2p, rust-libp2p and js-libp2p on this machine, same run.

  python3 bench/run.py [--quick] [--runs N] [--only weft,go,rust,js,weft-cli,weft-boringssl,weft-threaded,weft-spin,
                                                   weft-1cpu,weft-2cpus,weft-haltpoll]

Builds every peer (bench/peers/<impl>/build.sh), runs each implementation against itself and
weft against each of the others in both directions, measures the machine's limits (iperf3, the
AEAD rate of both crypto backends) in the same run, and writes bench/results/<date>[-quick].md,
.json and .png. bench/README.md explains the metrics and how to read the output.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import json
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import chart, environment  # noqa: E402
from benchlib.metrics import FULL, QUICK, Pair, PairRun, Peer, RunRecord  # noqa: E402
from benchlib.report import METRICS, evaluate_targets, markdown, summarize  # noqa: E402

CONTRACT_PEERS = ["weft", "go", "rust", "js"]
EXTRA_ROWS = ["weft-cli", "weft-boringssl", "weft-threaded", "weft-spin", "weft-1cpu", "weft-2cpus"]
# Measured only when asked for with --only.
OPTIONAL_ROWS: list[str] = ["weft-haltpoll"]
# weft-threaded: weft's peer with the client's node on one I/O thread (the library's
# default) instead of driven by its poll loop.
# weft-spin: weft's peer with WEFT_LIMIT_IO_SPIN_US = 50 on both sides: a thread that runs
# out of work polls up to 50 µs before it sleeps in the kernel (the default is 0).
# weft-1cpu, weft-2cpus: weft's peer, ping only, with the listener and the client pinned to one
# CPU, or each to its own: where the two processes run decides a round trip on this machine (the
# raw TCP ping-pong is measured placed the same ways).
# weft-haltpoll: weft's peer, ping only, at its defaults and unpinned, while the guest kernel's
# halt polling is on (HALT_POLL_ROW_NS; the raw TCP ping-pong is measured the same way). It
# changes a setting of the whole machine for its own rows, so it is measured only when asked for,
# needs root, and puts the setting back after each of its rows.
HALT_POLL_ROW_NS = 200_000  # the haltpoll driver's own default
RESULTS = environment.ROOT / "bench" / "results"


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer runs, smaller sizes (a few minutes)")
    ap.add_argument("--runs", type=int, help="runs of every pair (default 5; --quick: 3)")
    ap.add_argument("--only", help="comma-separated implementations to include: "
                    + ",".join(CONTRACT_PEERS + EXTRA_ROWS + OPTIONAL_ROWS))
    ap.add_argument("--results", type=Path, default=RESULTS, help="where the report goes")
    args = ap.parse_args()
    known = CONTRACT_PEERS + EXTRA_ROWS + OPTIONAL_ROWS
    args.selected = CONTRACT_PEERS + EXTRA_ROWS if not args.only else [x.strip() for x in args.only.split(",") if x.strip()]
    unknown = [x for x in args.selected if x not in known]
    if unknown:
        ap.error(f"--only: unknown implementation(s) {', '.join(unknown)}; known: {', '.join(known)}")
    if args.runs is not None and not 1 <= args.runs <= 100:
        ap.error("--runs must be 1..100")
    return args


def build_everything(selected: list[str]) -> tuple[dict[str, environment.Build], dict[str, Peer]]:
    builds: dict[str, environment.Build] = {}
    peers: dict[str, Peer] = {}
    for name in CONTRACT_PEERS:
        if name in selected or (name == "weft" and any(x.startswith("weft") for x in selected)):
            say(f"build: {name} ...")
            builds[name] = environment.build_peer(name)
            if builds[name].ok and name in selected:
                peers[name] = Peer(name, [str(environment.PEERS / name / "peer")])
            say(f"build: {name}: " + (f"ok ({builds[name].seconds:.0f} s)" if builds[name].ok
                                      else f"FAILED: {builds[name].reason}"))
    if "weft" in builds and not builds["weft"].ok:
        say("weft itself did not build: no benchmark without it")
        sys.exit(1)
    if "weft-cli" in selected:
        tool = environment.weft_build_dir() / "tools" / "weft"
        ok = tool.exists()
        builds["weft-cli"] = environment.Build("weft-cli", ok, "" if ok else f"{tool} was not built")
        if ok:
            peers["weft-cli"] = Peer("weft-cli", [str(tool)], is_cli=True)
    weft_variants = {"weft-threaded": ["WEFT_BENCH_IO_THREADS=1"],
                     "weft-spin": ["WEFT_BENCH_IO_SPIN_US=50"]}
    for name, env in weft_variants.items():
        if name in selected and builds.get("weft", environment.Build("weft", False)).ok:
            builds[name] = environment.Build(name, True)
            peers[name] = Peer(name, ["env", *env, str(environment.PEERS / "weft" / "peer")])
    cpus = environment.placement_cpus()
    placements = {"weft-1cpu": "both processes pinned to one CPU",
                  "weft-2cpus": "the two processes pinned to two CPUs"}
    for name, what in placements.items():
        if name not in selected or not builds.get("weft", environment.Build("weft", False)).ok:
            continue
        if cpus is None or shutil.which("taskset") is None:
            builds[name] = environment.Build(name, False, f"{what} needs two CPUs and taskset")
            continue
        listener_cpu, client_cpu = (cpus[0], cpus[0]) if name == "weft-1cpu" else cpus
        program = str(environment.PEERS / "weft" / "peer")
        builds[name] = environment.Build(name, True)
        peers[name] = Peer(name, ["taskset", "-c", str(client_cpu), program], ping_only=True,
                           listener_command=["taskset", "-c", str(listener_cpu), program])
    if "weft-haltpoll" in selected and builds.get("weft", environment.Build("weft", False)).ok:
        problem = environment.halt_poll_problem()
        builds["weft-haltpoll"] = environment.Build("weft-haltpoll", problem is None, problem or "")
        if problem is None:
            peers["weft-haltpoll"] = Peer("weft-haltpoll", [str(environment.PEERS / "weft" / "peer")],
                                          ping_only=True)
    if "weft-boringssl" in selected:
        say("build: weft with BoringSSL ...")
        builds["weft-boringssl"] = environment.build_weft_boringssl()
        if builds["weft-boringssl"].ok:
            peers["weft-boringssl"] = Peer("weft-boringssl",
                                           [str(environment.boringssl_build_dir() / "bench" / "weft-bench-peer")])
        else:
            say(f"build: weft-boringssl: FAILED: {builds['weft-boringssl'].reason}")
    return builds, peers


def make_pairs(peers: dict[str, Peer]) -> list[Pair]:
    # weft on BoringSSL runs just before weft, whose first metric is perf: the verdict on which
    # backend is faster for bulk data compares two perf runs made seconds apart, not minutes, in
    # which this machine's speed drifts by a tenth or more.
    order = ["weft-boringssl"] + [n for n in CONTRACT_PEERS + EXTRA_ROWS + OPTIONAL_ROWS if n != "weft-boringssl"]
    pairs = [Pair(peers[n], peers[n]) for n in order if n in peers]
    if "weft" in peers:
        for other in ("go", "rust", "js"):
            if other in peers:
                pairs += [Pair(peers["weft"], peers[other]), Pair(peers[other], peers["weft"])]
    return pairs


def halt_polling(on: bool):
    """The guest kernel's halt polling on for the block when `on` (the weft-haltpoll rows)."""
    return environment.guest_halt_poll(HALT_POLL_ROW_NS) if on else contextlib.nullcontext()


def measure_limits(settings, aead_programs: dict[str, Path], iperf_ok: bool, halt_poll: bool,
                   into: dict) -> None:
    pingpong = environment.weft_build_dir() / "bench" / "weft-tcp-pingpong"
    if pingpong.exists():
        # Unpinned (as every pair runs), then placed as the pinned weft rows are, then unpinned
        # with the guest kernel's halt polling on, as the weft-haltpoll row runs.
        cpus = environment.placement_cpus()
        placements: dict = {"": None}
        if cpus is not None:
            placements |= {"_one_cpu": (cpus[0], cpus[0]), "_two_cpus": cpus}
        if halt_poll:
            placements["_halt_poll"] = None
        for suffix, placement in placements.items():
            try:
                with halt_polling(suffix == "_halt_poll"):
                    rtt = environment.tcp_pingpong_us(pingpong, settings.ping_count, placement)
                into.setdefault(f"tcp_pingpong{suffix}_median_us", []).append(rtt["median_us"])
                into.setdefault(f"tcp_pingpong{suffix}_p99_us", []).append(rtt["p99_us"])
            except (RuntimeError, OSError, ValueError, KeyError) as error:
                into.setdefault("problems", []).append(f"TCP ping-pong{suffix.replace('_', ' ')} failed: {error}")
    if iperf_ok:
        try:
            tcp = environment.iperf3_tcp(settings.iperf_seconds)
            for key in ("Gbps", "sender_cpu_s_per_GiB", "receiver_cpu_s_per_GiB"):
                into.setdefault(f"iperf3_{key}", []).append(tcp[key])
        except (RuntimeError, OSError, ValueError, KeyError) as error:
            into.setdefault("problems", []).append(f"iperf3 failed: {error}")
    for backend, program in aead_programs.items():
        try:
            rates = environment.aead_rates(program, settings.aead_seconds)
        except (RuntimeError, OSError, ValueError) as error:
            into.setdefault("problems", []).append(f"AEAD benchmark ({backend}) failed: {error}")
            continue
        entry = into.setdefault("aead", {}).setdefault(
            backend, {"name": rates["backend"], "seal_GBps": [], "seal_parts_GBps": [], "open_GBps": []})
        for key in ("seal_GBps", "seal_parts_GBps", "open_GBps"):
            entry[key].append(rates[key])


def describe(record: RunRecord) -> str:
    parts = [f"{k}={v:.4g}" for k, v in record.figures.items()]
    parts += [f"{k}=FAILED" for k in record.failures]
    return ", ".join(parts)


def results_path(directory: Path, quick: bool) -> Path:
    stem = datetime.date.today().isoformat() + ("-quick" if quick else "")
    path, n = directory / f"{stem}.md", 2
    while path.exists():
        path, n = directory / f"{stem}-{n}.md", n + 1
    return path


def main() -> int:
    args = parse_args()
    settings = QUICK if args.quick else FULL
    if args.runs:
        settings = dataclasses.replace(settings, runs=args.runs)
    started = time.monotonic()
    machine = environment.machine_facts()  # before the builds load the machine

    builds, peers = build_everything(args.selected)
    iperf_problem = environment.ensure_iperf3()
    chart_problem = environment.ensure_matplotlib()
    aead_programs = {}
    if builds.get("weft", environment.Build("weft", False)).ok:
        aead_programs[environment.default_crypto_backend()] = environment.weft_build_dir() / "bench" / "weft-aead-bench"
    if builds.get("weft-boringssl", environment.Build("", False)).ok:
        aead_programs["boringssl"] = environment.boringssl_build_dir() / "bench" / "weft-aead-bench"
    pairs = make_pairs(peers)
    logs = environment.ROOT / "build" / "bench-logs" / datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    logs.mkdir(parents=True, exist_ok=True)
    say(f"measuring {len(pairs)} pairs × {settings.runs} runs; logs in {logs}")

    measuring = time.monotonic()
    limit_runs: dict = {"problems": [f"iperf3 unavailable: {iperf_problem}"] if iperf_problem else []}
    records: dict[str, list[RunRecord]] = {p.key: [] for p in pairs}
    for run in range(settings.runs):
        measure_limits(settings, aead_programs, iperf_problem is None, "weft-haltpoll" in peers, limit_runs)
        for pair in pairs:
            pair_run = PairRun(pair, settings, logs, run)
            try:
                with halt_polling(pair.key == "weft-haltpoll"):
                    if pair.client.is_cli:
                        record = pair_run.run_cli_metrics()
                    else:
                        record = pair_run.run_contract_metrics(only_perf=pair.key == "weft-boringssl")
            except environment.HaltPollError as error:
                record = pair_run.record
                record.failures["ping_median_us"] = record.failures["ping_p99_us"] = str(error)
            finally:
                pair_run.close()
            records[pair.key].append(record)
            say(f"[run {run + 1}/{settings.runs}] {pair.key}: {describe(record)}")
    measure_seconds = time.monotonic() - measuring

    summaries, failure_counts, failures = {}, {}, []
    for key, runs in records.items():
        for metric in METRICS:
            values = [r.figures[metric] for r in runs if metric in r.figures]
            failed = sum(metric in r.failures for r in runs)
            if failed:
                failure_counts.setdefault(key, {})[metric] = failed
            if values:
                summaries.setdefault(key, {})[metric] = summarize(values, failed)
        for index, r in enumerate(runs):
            by_error: dict[str, list[str]] = {}
            for metric, error in r.failures.items():
                by_error.setdefault(error, []).append(metric)
            failures += [{"pair": key, "run": index + 1, "metrics": m, "error": e} for e, m in by_error.items()]
    limits: dict = {"problems": list(dict.fromkeys(limit_runs.get("problems", [])))}
    for key in ("iperf3_Gbps", "iperf3_sender_cpu_s_per_GiB", "iperf3_receiver_cpu_s_per_GiB",
                "tcp_pingpong_median_us", "tcp_pingpong_p99_us",
                "tcp_pingpong_one_cpu_median_us", "tcp_pingpong_one_cpu_p99_us",
                "tcp_pingpong_two_cpus_median_us", "tcp_pingpong_two_cpus_p99_us",
                "tcp_pingpong_halt_poll_median_us", "tcp_pingpong_halt_poll_p99_us"):
        if limit_runs.get(key):
            limits[key] = summarize(limit_runs[key], 0)
    for backend, rates in limit_runs.get("aead", {}).items():
        limits.setdefault("aead", {})[backend] = {"name": rates["name"]} | {
            key: summarize(rates[key], 0) for key in ("seal_GBps", "seal_parts_GBps", "open_GBps")}
    default_backend = environment.default_crypto_backend()
    halt_poll_ns = HALT_POLL_ROW_NS if "weft-haltpoll" in peers else None
    targets = evaluate_targets(summaries, limits, default_backend, machine.get("cores"), halt_poll_ns)

    md_path = results_path(args.results, args.quick)
    weft_tool = environment.weft_build_dir() / "tools" / "weft"
    command = "python3 bench/run.py" + (" --quick" if args.quick else "") + \
        (f" --runs {args.runs}" if args.runs else "") + (f" --only {args.only}" if args.only else "")
    data = {
        "date": datetime.date.today().isoformat(), "quick": args.quick, "command": command,
        "settings": dataclasses.asdict(settings), "machine": machine,
        "versions": environment.versions(weft_tool if weft_tool.exists() else None),
        "builds": {k: dataclasses.asdict(b) for k, b in builds.items()},
        "failures": failures,
        "churn_concurrency": {k: next((r.notes.get("churn_concurrency") for r in runs
                                       if r.notes.get("churn_concurrency") is not None), None)
                              for k, runs in records.items()},
        "measure_seconds": round(measure_seconds, 1),
    }
    if halt_poll_ns is not None:
        data |= {"halt_poll_row_ns": halt_poll_ns, "halt_poll_path": str(environment.HALT_POLL_NS)}
    args.results.mkdir(parents=True, exist_ok=True)
    report = markdown(data, summaries, failure_counts, limits, targets)
    report += f"\nMeasuring took {measure_seconds:.0f} s ({time.monotonic() - started:.0f} s with the builds).\n"
    if chart_problem is None:
        bound = limits.get("aead", {}).get(default_backend)
        bound_MBps = min(bound["seal_GBps"].median, bound["open_GBps"].median) * 1e3 if bound else None
        chart.draw(md_path.with_suffix(".png"), f"weft benchmark {data['date']} "
                   f"({settings.runs} runs{', quick' if args.quick else ''}; {machine['cpu']}, "
                   f"{machine['cores']} cores)", summaries, bound_MBps)
        report += f"\n![the same figures]({md_path.with_suffix('.png').name})\n"
    else:
        report += f"\nNo chart: {chart_problem}\n"
    md_path.write_text(report)
    data["runs"] = {k: [dataclasses.asdict(r) for r in runs] for k, runs in records.items()}
    data["limit_runs"] = limit_runs
    data["summary"] = {k: {m: dataclasses.asdict(s) for m, s in v.items()} for k, v in summaries.items()}
    data["targets"] = targets
    md_path.with_suffix(".json").write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")

    say(f"\nwrote {md_path} (+ .json, .png) after {time.monotonic() - started:.0f} s")
    for t in targets:
        verdict = {True: "met", False: "MISSED", None: "-"}[t["met"]]
        say(f"  {verdict:6} {t['target']}: {t['measured']}")
    weft_failures = [f for f in failures if f["pair"] == "weft"]
    if weft_failures:
        say(f"{len(weft_failures)} failed weft ↔ weft measurement(s): see the report")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
