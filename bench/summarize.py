#!/usr/bin/env python3
"""Turns bench/run's raw files into records and tables.

bench/run measures; this file only parses and prints. Subcommands:

  record RUNS.jsonl key=value... time=FILE (json=FILE | hey=FILE)
      parse one run (GNU time's '%e %U %S %M' line plus stickyprobe's JSON
      report or hey's text summary), append it as one JSON line and print a
      one-line progress note to stderr
  throughput RUNS.jsonl     per-run table, then stickyprobe / hey per pair
  memory RUNS.jsonl         peak RSS and bytes per session
  stream RUNS.jsonl SAMPLES VmRSS over a long run, at 10% vs at the end
  goals RUNS.jsonl SAMPLES QUICK  one line per goal of issue 7
  hey-rate FILE             hey's own Requests/sec (bench/run's calibration)

Only the standard library; medians of ratios are taken per pair, so a noisy
moment hurts one pair, not the comparison.
"""

import json
import re
import statistics
import sys


def parse_time(path):
    """GNU time -f '%e %U %S %M': the last line (a 'Command exited with
    non-zero status' line may come first)."""
    try:
        with open(path) as f:
            lines = [l for l in f.read().splitlines() if l.strip()]
    except OSError:
        return None
    for line in reversed(lines):
        parts = line.split()
        if len(parts) == 4:
            try:
                wall, user, sys_, rss = (float(p) for p in parts)
            except ValueError:
                continue
            return {"wall_s": wall, "user_s": user, "sys_s": sys_, "rss_kb": int(rss)}
    return None


def parse_report(path):
    """stickyprobe's JSON report (schema stickyprobe.report/v1)."""
    try:
        with open(path) as f:
            rep = json.load(f)
    except (OSError, ValueError):
        return None
    s, lat, run = rep.get("summary", {}), rep.get("latency_ms", {}), rep.get("run", {})
    return {
        "requests": s.get("requests"),
        "errors": s.get("errors"),
        "sessions": s.get("sessions"),
        "p50_ms": lat.get("p50"),
        "p99_ms": lat.get("p99"),
        "verdict": rep.get("verdict"),
        "truncated": bool(run.get("truncated")),
        "duration_s": run.get("duration_s"),
    }


def parse_hey(path):
    """hey's text summary: responses per status, errors, 50%/99% latency."""
    try:
        with open(path, errors="replace") as f:
            text = f.read()
    except OSError:
        return None
    if "Summary:" not in text:
        return None
    out = {"requests": 0, "errors": 0, "p50_ms": None, "p99_ms": None}
    m = re.search(r"Requests/sec:\s*([0-9.]+)", text)
    out["hey_rps"] = float(m.group(1)) if m else None
    for pct, key in (("50", "p50_ms"), ("99", "p99_ms")):
        m = re.search(r"^\s*%s%% in ([0-9.]+) secs" % pct, text, re.M)
        if m:
            out[key] = float(m.group(1)) * 1000
    section = None
    for line in text.splitlines():
        if line.startswith("Status code distribution"):
            section = "status"
        elif line.startswith("Error distribution"):
            section = "error"
        elif section == "status":
            m = re.match(r"\s*\[(\d+)\]\s+(\d+) responses", line)
            if m:
                n = int(m.group(2))
                out["requests"] += n
                if int(m.group(1)) >= 500:
                    out["errors"] += n
        elif section == "error":
            m = re.match(r"\s*\[(\d+)\]\s", line)
            if m:
                out["requests"] += int(m.group(1))
                out["errors"] += int(m.group(1))
    return out


def cmd_hey_rate(args):
    h = parse_hey(args[0])
    if not h or not h.get("hey_rps") or not h.get("requests"):
        sys.exit(1)
    print("%.1f" % h["hey_rps"])


def cmd_record(args):
    out_path, kv = args[0], dict(a.split("=", 1) for a in args[1:])
    rec = {k: v for k, v in kv.items() if k not in ("time", "json", "hey")}
    for k in ("conc", "pair", "planned", "sessions", "exit"):
        if k in rec:
            rec[k] = int(rec[k])
    t = parse_time(kv["time"])
    body = parse_report(kv["json"]) if "json" in kv else parse_hey(kv["hey"])
    rec["ok"] = bool(t and body and body.get("requests"))
    if t:
        rec.update(t)
    if body:
        rec.update(body)
    if rec["ok"]:
        rec["rps"] = rec["requests"] / rec["wall_s"] if rec["wall_s"] > 0 else None
        rec["cpu_per_10k"] = (rec["user_s"] + rec["sys_s"]) * 10000 / rec["requests"]
    with open(out_path, "a") as f:
        f.write(json.dumps(rec) + "\n")
    note = "  %-11s %-7s c=%-4s %-6s" % (rec.get("tool"), rec.get("conn", ""), rec.get("conc", ""),
                                        "#%s" % rec["pair"] if "pair" in rec else "")
    if rec["ok"]:
        note += " %6d req in %5.1fs = %6.0f req/s, CPU %.2fs/10k, RSS %.0f MB" % (
            rec["requests"], rec["wall_s"], rec["rps"], rec["cpu_per_10k"], rec["rss_kb"] / 1024)
        if rec.get("errors"):
            note += ", %d errors" % rec["errors"]
        if rec.get("truncated"):
            note += ", TRUNCATED by --max-duration"
    else:
        note += " FAILED (exit %s; see %s)" % (rec.get("exit"), kv.get("json") or kv.get("hey"))
    print(note, file=sys.stderr)


def load(path, section):
    with open(path) as f:
        return [r for r in (json.loads(l) for l in f if l.strip()) if r.get("section") == section]


def fmt(v, spec, width):
    return ("%" + spec) % v if isinstance(v, (int, float)) else "-".rjust(width)


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def settings(runs):
    seen = []
    for r in runs:
        key = (r["conn"], r["conc"])
        if key not in seen:
            seen.append(key)
    return seen


def pair_ratios(runs, conn, conc):
    """[(pair, rps ratio, cpu ratio)] stickyprobe ÷ hey for one setting."""
    by = {}
    for r in runs:
        if r["conn"] == conn and r["conc"] == conc and r["ok"]:
            by.setdefault(r["pair"], {})[r["tool"]] = r
    out = []
    for pair in sorted(by):
        sp, hey = by[pair].get("stickyprobe"), by[pair].get("hey")
        if sp and hey:
            out.append((pair, sp["rps"] / hey["rps"], sp["cpu_per_10k"] / hey["cpu_per_10k"], sp, hey))
    return out


def cmd_throughput(args):
    runs = load(args[0], "throughput")
    print("tool         conn     conc pair    req/s  p50 ms  p99 ms  CPU s/10k  peak RSS MB  errors")
    for r in runs:
        conn = {"fresh": "fresh", "reuse": "reuse"}.get(r["conn"], r["conn"])
        line = "%-12s %-8s %4d %4d " % (r["tool"], conn, r["conc"], r["pair"])
        if not r["ok"]:
            print(line + "   FAILED (exit %s)" % r.get("exit"))
            continue
        line += "%8s %7s %7s %10s %12s %7d" % (
            fmt(r["rps"], ".0f", 8), fmt(r["p50_ms"], ".1f", 7), fmt(r["p99_ms"], ".1f", 7),
            fmt(r["cpu_per_10k"], ".2f", 10), fmt(r["rss_kb"] / 1024, ".1f", 12), r.get("errors") or 0)
        if r.get("truncated"):
            line += "  truncated by --max-duration"
        print(line)
    print()
    print("stickyprobe ÷ hey, per pair (req/s: higher is better, goal >= 1.0; CPU per request: lower is better, goal <= 1.0)")
    print("setting         pair  req/s ratio  CPU ratio   (sp req/s / hey req/s, sp CPU / hey CPU per 10k)")
    for conn, conc in settings(runs):
        rows = pair_ratios(runs, conn, conc)
        name = "%s c=%d" % (conn, conc)
        for pair, rr, cr, sp, hey in rows:
            print("%-15s %4d  %11.2f  %9.2f   (%.0f / %.0f, %.2f / %.2f)" % (
                name, pair, rr, cr, sp["rps"], hey["rps"], sp["cpu_per_10k"], hey["cpu_per_10k"]))
        mr, mc = median([r[1] for r in rows]), median([r[2] for r in rows])
        print("%-15s %4s  %11s  %9s   over %d pairs" % (name, "med", fmt(mr, ".2f", 11), fmt(mc, ".2f", 9), len(rows)))


def cmd_memory(args):
    runs = [r for r in load(args[0], "memory") if r["ok"]]
    if not runs:
        print("no successful memory run")
        return
    runs.sort(key=lambda r: r["sessions"])
    base = runs[0]
    print("sessions  requests   wall s  peak RSS MB  RSS/session B  (RSS-RSS_%d)/(n-%d) B" % (base["sessions"], base["sessions"]))
    for r in runs:
        per = r["rss_kb"] * 1024 / r["sessions"]
        marg = None
        if r["sessions"] > base["sessions"]:
            marg = (r["rss_kb"] - base["rss_kb"]) * 1024 / (r["sessions"] - base["sessions"])
        note = "  truncated by --max-duration" if r.get("truncated") else ""
        if r.get("errors"):
            note += "  %d errors" % r["errors"]
        print("%8d  %8d  %7.1f  %11.1f  %13.0f  %20s%s" % (
            r["sessions"], r["requests"], r["wall_s"], r["rss_kb"] / 1024, per, fmt(marg, ".0f", 20), note))


def read_samples(path):
    out = []
    with open(path) as f:
        for line in f:
            p = line.split()
            if len(p) == 3:
                out.append((float(p[0]), int(p[1]), int(p[2])))
    return out


def stream_figures(path_runs, path_samples):
    runs = [r for r in load(path_runs, "stream") if r["ok"]]
    big = [r for r in runs if r.get("role") == "long"]
    small = [r for r in runs if r.get("role") == "short"]
    if not big:
        return None
    big = big[0]
    samples = read_samples(path_samples)
    fig = {"big": big, "small": small[0] if small else None, "samples": samples}
    mark = big["requests"] / 10  # the "100k of 1M" point
    fig["mark"] = mark
    if samples and big["requests"]:
        # Requests done at time t, estimated from the elapsed fraction of the
        # run (the rate is steady after the first second on a saturated box).
        t_mark = big["wall_s"] * mark / big["requests"]
        at = min(samples, key=lambda s: abs(s[0] - t_mark))
        fig.update(t_mark=t_mark, rss_mark_kb=at[1], t_mark_sample=at[0], rss_end_kb=samples[-1][1],
                   t_end_sample=samples[-1][0])
        fig["ratio_sampled"] = fig["rss_end_kb"] / fig["rss_mark_kb"]
    if fig["small"]:
        fig["ratio_runs"] = big["rss_kb"] / fig["small"]["rss_kb"]
    return fig


def cmd_stream(args):
    fig = stream_figures(args[0], args[1])
    if not fig:
        print("the long streaming run failed")
        return
    big, small = fig["big"], fig["small"]
    print("long run: %d requests in %.1f s (%.0f req/s), peak RSS %.1f MB, CPU %.2f s/10k%s" % (
        big["requests"], big["wall_s"], big["rps"], big["rss_kb"] / 1024, big["cpu_per_10k"],
        ", TRUNCATED by --max-duration" if big.get("truncated") else ""))
    if "ratio_sampled" in fig:
        print("method 1, one run sampled every 0.5 s (requests done estimated from elapsed time):")
        print("  VmRSS at ~%d requests (t=%.1f s, sample at %.1f s): %.1f MB" % (
            fig["mark"], fig["t_mark"], fig["t_mark_sample"], fig["rss_mark_kb"] / 1024))
        print("  VmRSS at the end (last sample, t=%.1f s):               %.1f MB" % (
            fig["t_end_sample"], fig["rss_end_kb"] / 1024))
        print("  end ÷ at 10%%: %.2f" % fig["ratio_sampled"])
        if fig["t_mark"] < 3:
            print("  (10%% of this run is %.1f s, still inside start-up: method 1 means little here)" % fig["t_mark"])
        step = max(1, len(fig["samples"]) // 12)
        print("  trajectory (t s: VmRSS MB): " + ", ".join(
            "%.1f: %.0f" % (s[0], s[1] / 1024) for s in fig["samples"][::step]))
    if small:
        print("method 2, two runs, peak RSS: %d requests %.1f MB, %d requests %.1f MB; ratio %.2f" % (
            small["requests"], small["rss_kb"] / 1024, big["requests"], big["rss_kb"] / 1024, fig["ratio_runs"]))


def parse_bench(path):
    """The first Benchmark line of `go test -bench -benchmem`: name, ns/op, allocs/op."""
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    for line in lines:
        p = line.split()
        if line.startswith("Benchmark") and "ns/op" in p and "allocs/op" in p:
            return p[0], float(p[p.index("ns/op") - 1]), int(p[p.index("allocs/op") - 1])
    return None


def verdict(ok):
    return "holds" if ok else "MISSES"


def cmd_goals(args):
    runs_path, samples_path, quick = args[0], args[1], args[2] == "1"
    tp = load(runs_path, "throughput")
    for conn, conc in settings(tp):
        rows = pair_ratios(tp, conn, conc)
        mr, mc = median([r[1] for r in rows]), median([r[2] for r in rows])
        if mr is None:
            print("throughput %-6s c=%-4d  no complete pair" % (conn, conc))
            continue
        print("throughput %-6s c=%-4d  stickyprobe/hey req/s %.2f (goal >= 1.0: %s);  CPU per request %.2f (goal <= 1.0: %s)" % (
            conn, conc, mr, verdict(mr >= 1.0), mc, verdict(mc <= 1.0)))
    mem = sorted((r for r in load(runs_path, "memory") if r["ok"]), key=lambda r: r["sessions"])
    if mem:
        top = mem[-1]
        line = "memory     %d sessions: peak RSS %.1f MB" % (top["sessions"], top["rss_kb"] / 1024)
        if top["sessions"] >= 100000:
            line += " (goal < 200 MB: %s)" % verdict(top["rss_kb"] < 200 * 1024)
        elif len(mem) > 1:
            base = mem[0]
            marg = (top["rss_kb"] - base["rss_kb"]) / (top["sessions"] - base["sessions"])
            line += "; extrapolated to 100000 sessions: %.0f MB (goal < 200 MB: %s, quick mode, estimate only)" % (
                (base["rss_kb"] + marg * (100000 - base["sessions"])) / 1024,
                verdict(base["rss_kb"] + marg * (100000 - base["sessions"]) < 200 * 1024))
        print(line)
    else:
        print("memory     no successful run")
    fig = stream_figures(runs_path, samples_path)
    if fig and "ratio_sampled" in fig:
        line = "streaming  %d requests: end RSS ÷ RSS at 10%% = %.2f (goal <= 1.10: %s)" % (
            fig["big"]["requests"], fig["ratio_sampled"], verdict(fig["ratio_sampled"] <= 1.10))
        if "ratio_runs" in fig:
            line += "; peak of the long run ÷ peak of the 10x shorter one = %.2f" % fig["ratio_runs"]
        print(line)
    else:
        print("streaming  no successful long run")
    bench = parse_bench(args[3]) if len(args) > 3 else None
    if bench:
        name, ns, allocs = bench
        mev = 1000 / ns
        print("aggregation %s: %.1f million events/s on one core (goal >= 5: %s), %s allocs/event (goal 0: %s)" % (
            name, mev, verdict(mev >= 5), allocs, verdict(allocs == 0)))
    else:
        print("aggregation not measured (no BenchmarkSummaryAdd result)")
    if quick:
        print("(BENCH_QUICK=1: every size is 10x smaller; these are smoke figures, not the goals)")


def main():
    cmds = {"record": cmd_record, "throughput": cmd_throughput, "memory": cmd_memory,
            "stream": cmd_stream, "goals": cmd_goals, "hey-rate": cmd_hey_rate}
    if len(sys.argv) < 3 or sys.argv[1] not in cmds:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    cmds[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
