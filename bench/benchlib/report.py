"""Summaries (median, min, max over runs), the Targets verdicts and the Markdown report."""
from __future__ import annotations

import statistics
from dataclasses import dataclass

# key: (title, format, higher is better)
METRICS: dict[str, tuple[str, str, bool]] = {
    "perf_up_MBps": ("perf upload, 1 stream (MB/s)", ".0f", True),
    "perf_down_MBps": ("perf download, 1 stream (MB/s)", ".0f", True),
    "cpu_s_per_GiB": ("CPU per GiB moved, both processes (s)", ".2f", False),
    "setup_ms": ("connection setup → first ping, median (ms)", ".2f", False),
    "handshake_per_s": ("handshake rate, 4 dialers (conn/s)", ".0f", True),
    "ping_median_us": ("ping round trip, median (µs)", ".1f", False),
    "ping_p99_us": ("ping round trip, p99 (µs)", ".1f", False),
    "churn_per_s": ("stream churn, 1 KiB echo (streams/s)", ".0f", True),
    "mem_listener_KiB": ("memory per idle connection, listener (KiB)", ".1f", False),
    "mem_dialer_KiB": ("memory per idle connection, dialer (KiB)", ".1f", False),
}

SELF_ORDER = ["weft", "go", "rust", "js", "weft-threaded", "weft-spin", "weft-1cpu", "weft-2cpus", "weft-haltpoll",
              "weft-cli", "weft-boringssl"]
OTHERS = ["go", "rust", "js"]
LABELS = {"weft-cli": "weft (cli)", "weft-boringssl": "weft (BoringSSL)",
          "weft-threaded": "weft (I/O thread)", "weft-spin": "weft (io_spin 50 µs)",
          "weft-1cpu": "weft (pinned, 1 CPU)", "weft-2cpus": "weft (pinned, 2 CPUs)",
          "weft-haltpoll": "weft (guest halt polling)"}


def label(key: str) -> str:
    return LABELS.get(key, key)


def pair_order(keys: list[str]) -> list[str]:
    cross = [f"{a}→{b}" for x in OTHERS for a, b in (("weft", x), (x, "weft"))]
    order = SELF_ORDER + cross
    return [k for k in order if k in keys] + sorted(k for k in keys if k not in order)


@dataclass
class Summary:
    median: float
    low: float
    high: float
    runs: int
    failed: int


def summarize(values: list[float], failed: int) -> Summary | None:
    if not values:
        return None
    return Summary(statistics.median(values), min(values), max(values), len(values), failed)


def cell(summary: Summary | None, failed: int, fmt: str) -> str:
    if summary is None:
        return f"failed ({failed}/{failed})" if failed else "–"
    text = f"{format(summary.median, fmt)} ({format(summary.low, fmt)}–{format(summary.high, fmt)})"
    if summary.failed:
        text += f" ⚠ {summary.failed}/{summary.runs + summary.failed} failed"
    return text


# ---- targets ---------------------------------------------------------------------------------

def _median(summaries: dict, pair: str, key: str) -> float | None:
    s = summaries.get(pair, {}).get(key)
    return s.median if s else None


def evaluate_targets(summaries: dict, limits: dict, default_backend: str, cores: int | None = None,
                     halt_poll_ns: int | None = None) -> list[dict]:
    """Each weft target with the measured value and whether it is met, from the data alone."""
    rows = []

    def add(name: str, value: float | None, text: str, met: bool | None):
        rows.append({"target": name, "value": value, "measured": text if value is not None else "not measured",
                     "met": None if value is None else met})

    aead = limits.get("aead", {}).get(default_backend, {})
    bound = min(aead["seal_GBps"].median, aead["open_GBps"].median) if aead else None
    for direction, key in (("upload", "perf_up_MBps"), ("download", "perf_down_MBps")):
        weft = _median(summaries, "weft", key)
        gbps = weft / 1e3 if weft is not None else None
        add(f"throughput {direction} ≥ 1.5 GB/s", gbps, f"{gbps:.2f} GB/s" if gbps else "", (gbps or 0) >= 1.5)
        others = {x: _median(summaries, x, key) for x in OTHERS}
        others = {x: v for x, v in others.items() if v is not None}
        if weft is not None and others:
            best = max(others, key=others.get)
            ratio = weft / others[best]
            add(f"throughput {direction} ≥ 2× the fastest of go/rust/js", ratio,
                f"{ratio:.2f}× ({best}: {others[best] / 1e3:.2f} GB/s)", ratio >= 2)
        else:
            add(f"throughput {direction} ≥ 2× the fastest of go/rust/js", None, "", None)
        fraction = gbps / bound if gbps is not None and bound else None
        add(f"throughput {direction} as a fraction of the AEAD bound (report only)", fraction,
            f"{fraction:.0%} of {bound:.2f} GB/s (min of seal/open, {default_backend})" if fraction else "",
            None)
    # What bounds an encrypted stream here, from the same run: every byte is
    # sealed and opened once (the AEAD rates) and moved through loopback TCP
    # by the kernel (iperf3's CPU, which is almost all kernel time).
    sender_kernel = limits.get("iperf3_sender_cpu_s_per_GiB")
    receiver_kernel = limits.get("iperf3_receiver_cpu_s_per_GiB")
    if aead and sender_kernel and receiver_kernel:
        gb_per_gib = (1 << 30) / 1e9
        seal_s = gb_per_gib / aead["seal_GBps"].median
        open_s = gb_per_gib / aead["open_GBps"].median
        one_sender = gb_per_gib / (seal_s + sender_kernel.median)
        add("throughput bound of one sending thread: AEAD seal + the kernel's sending share, from iperf3 "
            "(report only)", one_sender, f"{one_sender:.2f} GB/s ({seal_s:.2f} s + {sender_kernel.median:.2f} s "
            "per GiB)", None)
        floor = seal_s + open_s + sender_kernel.median + receiver_kernel.median
        weft_cpu = _median(summaries, "weft", "cpu_s_per_GiB")
        text = f"{floor:.2f} s per GiB"
        if weft_cpu is not None:
            text += f"; weft {weft_cpu:.2f} s ({weft_cpu / floor - 1:+.0%})"
        if cores:
            text += f"; all {cores} cores at the floor: {cores / floor * gb_per_gib:.2f} GB/s"
        add("CPU floor of an encrypted stream, both processes: AEAD seal and open + iperf3's CPU "
            "(report only)", floor, text, None)
    setup = _median(summaries, "weft", "setup_ms")
    add("connection setup median ≤ 1 ms", setup, f"{setup:.2f} ms" if setup is not None else "",
        (setup or 1e9) <= 1)
    rate = _median(summaries, "weft", "handshake_per_s")
    add("handshake rate ≥ 1,500 connections/s", rate, f"{rate:,.0f}/s" if rate else "", (rate or 0) >= 1500)
    ping = _median(summaries, "weft", "ping_median_us")
    add("ping round trip median ≤ 50 µs", ping, f"{ping:.1f} µs" if ping else "", (ping or 1e9) <= 50)
    floor = limits.get("tcp_pingpong_median_us")
    add("ping round trip floor: raw TCP ping-pong between two processes (report only)",
        floor.median if floor else None, f"{floor.median:.1f} µs" if floor else "", None)
    # Where the two processes run decides a round trip: on one CPU it costs two
    # context switches, on two CPUs two wake-ups of an idle CPU (on a virtual
    # machine, each an exit to the hypervisor). The same placements for weft
    # and for raw TCP show how much of the round trip is weft's own work.
    for pair, limit, where in (("weft-1cpu", "tcp_pingpong_one_cpu_median_us", "both processes pinned to one CPU"),
                               ("weft-2cpus", "tcp_pingpong_two_cpus_median_us",
                                "the two processes pinned to two CPUs")):
        pinned = _median(summaries, pair, "ping_median_us")
        raw = limits.get(limit)
        add(f"ping round trip median, {where} (report only)", pinned,
            f"{pinned:.1f} µs" + (f" (raw TCP ping-pong placed the same: {raw.median:.1f} µs)" if raw else "")
            if pinned else "", None)
    # The wake-ups of an idle CPU are what the two placements differ in: with the guest
    # kernel's halt polling on, an idle CPU polls a while before it exits to the hypervisor.
    if "weft-haltpoll" in summaries:
        halt = _median(summaries, "weft-haltpoll", "ping_median_us")
        raw = limits.get("tcp_pingpong_halt_poll_median_us")
        setting = f"guest_halt_poll_ns = {halt_poll_ns:,}" if halt_poll_ns is not None else "halt polling on"
        add(f"ping round trip median at the defaults, unpinned, with the guest kernel's halt polling on "
            f"({setting}, for this row only) (report only)", halt,
            f"{halt:.1f} µs" + (f" (raw TCP ping-pong the same way: {raw.median:.1f} µs)" if raw else "")
            if halt else "", None)
    # With an I/O thread, the C API hands each operation to it and the
    # completion back to the application's thread: two more wake-ups.
    threaded_ping = _median(summaries, "weft-threaded", "ping_median_us")
    add("ping round trip median, client node with an I/O thread (report only)", threaded_ping,
        f"{threaded_ping:.1f} µs" if threaded_ping else "", None)
    spin_ping = _median(summaries, "weft-spin", "ping_median_us")
    add("ping round trip median ≤ 50 µs, threads spinning up to 50 µs (WEFT_LIMIT_IO_SPIN_US, opt-in)",
        spin_ping, f"{spin_ping:.1f} µs" if spin_ping else "", (spin_ping or 1e9) <= 50)
    cli_ping = _median(summaries, "weft-cli", "ping_median_us")
    add("ping round trip median, weft tool on the C++ API, no thread hand-off (report only)", cli_ping,
        f"{cli_ping:.1f} µs" if cli_ping else "", None)
    listener = _median(summaries, "weft", "mem_listener_KiB")
    dialer = _median(summaries, "weft", "mem_dialer_KiB")
    worst = max(listener, dialer) if listener is not None and dialer is not None else None
    add("memory ≤ 48 KiB per idle connection (each side)", worst,
        f"listener {listener:.1f} KiB, dialer {dialer:.1f} KiB" if worst is not None else "",
        (worst if worst is not None else 1e9) <= 48)
    churn = _median(summaries, "weft", "churn_per_s")
    add("stream churn ≥ 20,000 streams/s", churn, f"{churn:,.0f}/s" if churn else "", (churn or 0) >= 20000)
    threaded_churn = _median(summaries, "weft-threaded", "churn_per_s")
    add("stream churn, client node with an I/O thread (report only)", threaded_churn,
        f"{threaded_churn:,.0f}/s" if threaded_churn else "", None)

    bulk = {}
    for backend, pair in (("openssl", "weft"), ("boringssl", "weft-boringssl")):
        up, down = _median(summaries, pair, "perf_up_MBps"), _median(summaries, pair, "perf_down_MBps")
        if up is not None and down is not None:
            bulk[backend] = (up + down) / 2
    if len(bulk) == 2:
        faster = max(bulk, key=bulk.get)
        add("the default crypto backend is the faster one for bulk data", bulk[default_backend],
            f"default {default_backend}; weft↔weft mean of up/down: "
            + ", ".join(f"{b} {v:.0f} MB/s" for b, v in bulk.items()), faster == default_backend)
    else:
        add("the default crypto backend is the faster one for bulk data", None, "", None)
    return rows


# ---- Markdown ------------------------------------------------------------------------------

def _table(columns: list[str], summaries: dict, failures: dict) -> list[str]:
    lines = ["| metric | " + " | ".join(label(c) for c in columns) + " |",
             "| --- |" + " --- |" * len(columns)]
    for key, (title, fmt, higher) in METRICS.items():
        cells = [cell(summaries.get(c, {}).get(key), failures.get(c, {}).get(key, 0), fmt) for c in columns]
        if all(c == "–" for c in cells):
            continue
        lines.append(f"| {title} {'↑' if higher else '↓'} | " + " | ".join(cells) + " |")
    return lines


def _idle_text(m: dict) -> str:
    """How this machine's idle CPUs wait, when it says (records before this did not)."""
    driver, poll_ns = m.get("cpuidle_driver"), m.get("guest_halt_poll_ns")
    if driver is None:
        return ""
    text = f" Idle CPUs: cpuidle driver {driver}"
    if poll_ns is not None:
        text += (f", guest halt polling {poll_ns:,} ns" + (": an idle CPU halts at once, and waking it is an exit "
                                                           "to the hypervisor" if poll_ns == 0 else ""))
    return text + "."


def markdown(data: dict, summaries: dict, failures: dict, limits: dict, targets: list[dict]) -> str:
    s = data["settings"]
    m = data["machine"]
    keys = pair_order(list(summaries.keys() | failures.keys()))
    self_cols = [k for k in keys if "→" not in k]
    cross_cols = [k for k in keys if "→" in k]
    out = [f"# weft benchmark, {data['date']}{' (quick)' if data['quick'] else ''}", ""]
    out += [f"`{data['command']}`: {s['runs']} run(s) of every pair; each figure is the median over the "
            "runs, with the lowest and highest run in parentheses. ↑ higher is better, ↓ lower is better. "
            "Definitions: [bench/README.md](../README.md).", ""]
    load = m["load_average_at_start"]
    busy = m.get("cpu_busy_percent_at_start")
    if busy is not None:
        # Sampled over a second before the builds: work running then, unlike the load average,
        # which still counts work that has just ended.
        state = (f"; CPUs {busy:g}% busy over a second at start"
                 + (" (other work was running: the figures are noisy)." if busy > 10 else "."))
    else:  # reports of runs that did not sample it
        state = " (other work was running: the figures are noisy)." if load[0] > 0.5 else "."
    out += [f"Machine: {m['cpu']}, {m['cores']} cores ({m['threads_per_core']} thread(s) per core), "
            f"{m['memory']}, {m['kernel']}. Load average at start: {load[0]} / {load[1]} / {load[2]}"
            + state
            + " Both processes of a pair share all cores, as a user's would: nothing is pinned, except in "
            "the rows that say pinned." + _idle_text(m), ""]
    out += ["Versions:", ""] + [f"- {k}: {v}" for k, v in data["versions"].items()] + [""]
    out += [f"Sizes: perf {s['perf_bytes'] / (1 << 20):.0f} MiB each way; {s['setup_count']} setups; "
            f"rates over {s['rate_seconds']:g} s; {s['ping_count']} pings; {s['hold_connections']} held "
            "connections.", ""]

    out += ["## Targets (weft ↔ weft)", "", "| target | measured (median) | verdict |", "| --- | --- | --- |"]
    for t in targets:
        verdict = {True: "met", False: "**missed**", None: "–"}[t["met"]]
        out.append(f"| {t['target']} | {t['measured']} | {verdict} |")
    out.append("")

    out += ["## Physical limits of this machine, same run", "", "| limit | median (min–max) |", "| --- | --- |"]
    if "iperf3_Gbps" in limits:
        out.append(f"| raw TCP loopback, iperf3, 1 stream, 1 MiB writes (Gbit/s) | {cell(limits['iperf3_Gbps'], 0, '.1f')} |")
    for side in ("sender", "receiver"):
        if f"iperf3_{side}_cpu_s_per_GiB" in limits:
            out.append(f"| raw TCP loopback, iperf3, CPU per GiB of the {side}'s process (s) | "
                       f"{cell(limits[f'iperf3_{side}_cpu_s_per_GiB'], 0, '.2f')} |")
    if "tcp_pingpong_median_us" in limits:
        out.append("| raw TCP ping-pong, 32 bytes, two processes, median round trip (µs) | "
                   f"{cell(limits['tcp_pingpong_median_us'], 0, '.1f')} |")
        out.append("| raw TCP ping-pong, 32 bytes, two processes, p99 round trip (µs) | "
                   f"{cell(limits['tcp_pingpong_p99_us'], 0, '.1f')} |")
    for suffix, where in (("_one_cpu", "both pinned to one CPU"), ("_two_cpus", "pinned to two CPUs"),
                          ("_halt_poll", "with the guest kernel's halt polling on")):
        if f"tcp_pingpong{suffix}_median_us" in limits:
            out.append(f"| raw TCP ping-pong, 32 bytes, two processes {where}, median round trip (µs) | "
                       f"{cell(limits[f'tcp_pingpong{suffix}_median_us'], 0, '.1f')} |")
    for backend, rates in limits.get("aead", {}).items():
        name = rates.get("name", backend)
        out.append(f"| ChaCha20-Poly1305 seal, 1 core, 64 KiB frames, {name} (GB/s) | "
                   f"{cell(rates['seal_GBps'], 0, '.2f')} |")
        if "seal_parts_GBps" in rates:  # absent from records before it was measured
            out.append(f"| ChaCha20-Poly1305 seal of a Yamux header + payload from two buffers, as weft's "
                       f"Noise sender seals bulk data, {name} (GB/s) | {cell(rates['seal_parts_GBps'], 0, '.2f')} |")
        out.append(f"| ChaCha20-Poly1305 open, 1 core, 64 KiB frames, {name} (GB/s) | "
                   f"{cell(rates['open_GBps'], 0, '.2f')} |")
    for problem in limits.get("problems", []):
        out.append(f"| {problem} | – |")
    out.append("")

    out += ["## Each implementation against itself", ""] + _table(self_cols, summaries, failures) + [""]
    if cross_cols:
        out += ["## weft against the others (A→B: A dials and measures, B listens)", ""]
        out += _table(cross_cols, summaries, failures) + [""]

    missing = [b for b in data["builds"].values() if not b["ok"]]
    if missing:
        out += ["## Not measured", ""]
        out += [f"- **{label(b['name'])}**: {b['reason']}" for b in missing] + [""]
    if data["failures"]:
        out += ["## Failed runs", ""]
        out += [f"- {label(f['pair'])}, run {f['run']}, {', '.join(f['metrics'])}: {f['error']}"
                for f in data["failures"]] + [""]

    churn = {k: v for k, v in data.get("churn_concurrency", {}).items() if v is not None}
    out += ["## Notes", ""]
    if churn:
        out.append("- Stream churn concurrency (streams in flight on the connection): "
                   + ", ".join(f"{label(k)} {v}" for k, v in churn.items()) + ".")
    out += [
        "- weft (cli) is the `weft` tool against itself: its perf times each phase separately "
        "(upload until the write side is closed, download from then to the end of the stream) and its "
        "ping opens a new stream for every round trip (`weft_ping`, timed inside weft, not by the "
        "caller), unlike the contract peers.",
        "- weft (BoringSSL) is weft's peer built with `-DWEFT_CRYPTO=boringssl`, measured for bulk "
        "data only.",
        "- weft's client node has no I/O threads: it runs inside the client's `weft_node_poll` "
        "(`weft_config_set_io_threads(config, 0)`), which saves two thread hand-offs per round trip; "
        "its listener has one I/O thread, the library's default. weft (I/O thread) is the same peer "
        "with the client on one I/O thread too.",
        "- weft (io_spin 50 µs) is weft with `WEFT_LIMIT_IO_SPIN_US` = 50 on both sides: a thread that "
        "runs out of work (an I/O thread, or the client's `weft_node_poll`) polls up to 50 µs before it "
        "sleeps in the kernel, while its waits stay short, it waits more than it works and its spins "
        "find work and keep their CPU (default 0: it sleeps at once).",
        "- weft (pinned, 1 CPU) and weft (pinned, 2 CPUs) are the weft peer's ping with the listener and "
        "the client pinned (`taskset`) to one CPU, or each to its own; the raw TCP ping-pong is measured "
        "placed the same ways. Unpinned, the scheduler moves the two processes between these placements "
        "during a run.",
        *([f"- weft (guest halt polling) is the weft peer's ping at its defaults, unpinned, while the guest "
            f"kernel's halt polling is set to {data['halt_poll_row_ns']:,} ns (`{data['halt_poll_path']}`): an "
            "idle CPU polls that long for work before it halts, as weft's opt-in spin does in user space. "
            "The setting is the whole machine's; `bench/run.py --only ...,weft-haltpoll` sets it for this "
            "row and its raw TCP ping-pong only and puts the previous value back after each."]
          if "halt_poll_row_ns" in data and "weft-haltpoll" in summaries else []),
        "- weft's churn opens each stream with `weft_open_stream_lazy` (the proposal and the first bytes "
        "go out together), as go-libp2p opens every single-protocol stream.",
        "- CPU per GiB: user + system time of both processes over the upload and the download run, "
        "minus twice that of a run moving 0 bytes (start-up, dial, stream), per GiB moved.",
        "- Memory: listener RSS growth from just before to just after the connections are open; the "
        "dialer's growth is measured against the same program holding one connection.",
        "",
    ]
    return "\n".join(out)
