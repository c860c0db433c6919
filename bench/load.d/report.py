"""What bench/load prints: a Markdown table per scenario, the targets with PASS/FAIL, serve's log."""

UPLOAD = "POST /api/v1/documents"


def targets(one, two, small, big):
    rows = []
    t1 = one["routes"].get(UPLOAD, {}).get("throughput_rps") or 0
    t2 = two["routes"].get(UPLOAD, {}).get("throughput_rps") or 0
    rows.append({"target": "uploads in (2) ≥ 80 % of (1)'s throughput",
                 "value": f"{t2:.1f} vs {t1:.1f} req/s ({100 * t2 / t1 if t1 else 0:.0f} %)",
                 "pass": t1 > 0 and t2 >= 0.8 * t1})
    for route in ("GET /health", "GET /api/v1/station"):
        r = two["routes"].get(route)
        ok = r is not None and not r["errors"] and r["p99_ms"] < 50
        rows.append({"target": f"p99 of {route} < 50 ms in (2)",
                     "value": "no requests" if r is None else
                              f"{r['p99_ms']:.1f} ms" + (f", errors {r['errors']}" if r["errors"] else ""),
                     "pass": ok})
    ps, pb = small["serve_rss_mib"]["peak"], big["serve_rss_mib"]["peak"]
    ratio = pb / ps if ps else float("inf")
    rows.append({"target": "serve peak RSS, big uploads within ±20 % of small ones",
                 "value": f"{pb:.0f} vs {ps:.0f} MiB ({100 * ratio:.0f} %)",
                 "pass": 0.8 <= ratio <= 1.2})
    return rows


def print_scenario(sc):
    print(f"### {sc['name']}\n")
    print("| route | requests | errors | p50 ms | p99 ms | max ms | req/s |")
    print("|---|---:|---|---:|---:|---:|---:|")
    for route, r in sc["routes"].items():
        errors = ", ".join(f"{k}: {v}" for k, v in sorted(r["errors"].items())) or "0"
        print(f"| {route} | {r['requests']} | {errors} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | "
              f"{r['max_ms']:.1f} | {r['throughput_rps']:.2f} |")
    rss = sc["serve_rss_mib"]
    extra = "".join(f", {k.replace('_', ' ')} {rss[k]:.0f}" for k in ("idle_before", "idle_after") if k in rss)
    print(f"\nserve: RSS peak {rss['peak']:.0f} MiB (sampled every 100 ms: {rss['sampled_peak']:.0f}), "
          f"steady (median) {rss['steady']:.0f} MiB{extra}; "
          f"CPU {sc['serve_cpu_percent']:.0f} % of a core; this client {sc['client_cpu_percent']:.0f} %; "
          f"{sc['seconds']:.1f} s\n")


def print_server_log(summary, notes):
    print()
    for part, label in (("serving", "while serving"), ("at_stop", "once sent SIGTERM")):
        counts = summary[part]["counts"]
        if not counts:
            print(f"serve logged no warning, error or panic {label}.")
            continue
        print(f"serve logged {label}: " + ", ".join(f"{k} × {v}" for k, v in counts.items()) + ".")
        for k, line in summary[part]["first"].items():
            print(f"  first {k}: `{line}`")
    print(f"serve exited with {summary['exit_code']}.")
    if notes:
        print("Refused or failed requests (first words of each reply, how many):")
        for text, n in sorted(notes.items(), key=lambda kv: -kv[1]):
            print(f"  {n} × `{text[:200]}`")
