"""Does watching slow training? Train from the app's page, then measure throughput with 0, 1 and 3 browser tabs.

    python scripts/ui_load.py [--seconds 40] [--warmup 10] [--dataset fashion-mnist] [--tabs 0,1,3,0]

A --tabs entry with an f (`1f`, `3f`) opens the New-run form in each of its tabs, as a user setting up the next
run while watching (it is folded by default while a job trains).

Starts `streamlit run app.py` on a free port with a fresh GANLAB_HOME, starts one run from the Train page in
headless Chromium (the dataset's recipe, batch 64, as a user would), closes that tab, then for each entry of --tabs opens that
many tabs on the Train page's live panel and measures, over --seconds after --warmup: training images/s (from
the steps the run advanced), its share of the first no-tab figure, and the CPU used by the app's process, the
training worker and Chromium (seconds of CPU per second, from /proc). Needs Debian's chromium and playwright.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
                 "--no-first-run", "--disable-component-update", "--disable-sync"]
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK
    except (OSError, IndexError, ValueError):
        return 0.0


def descendants(pid: int) -> set[int]:
    """Every process below pid (children, grandchildren...)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
            ppid = int(text.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def chromium_pids() -> set[int]:
    """Every Chromium process on the machine: its renderers are forked by a zygote, not always below the browser
    process, so walking the browser's descendants missed them in some runs."""
    return {int(p.name) for p in Path("/proc").glob("[0-9]*") if "chromium" in command(int(p.name)).split(" ")[0]}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(home: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = dict(os.environ, GANLAB_HOME=str(home), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                             "--server.port", str(port), "--server.address", "127.0.0.1",
                             "--browser.gatherUsageStats", "false"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.5)
    raise SystemExit("the app did not start")


def open_train(context, url: str):
    page = context.new_page()
    page.set_default_timeout(120_000)
    page.goto(f"{url}/Train")
    page.wait_for_selector("[data-testid='stApp'][data-test-connection-state='CONNECTED']")
    page.wait_for_selector("[data-testid='stMain'] h1")
    return page


def start_run(context, url: str, dataset: str, threads: int = 0) -> None:
    page = open_train(context, url)
    box = page.locator("[data-testid='stSelectbox'] input[aria-label='Dataset']")
    box.click()
    box.fill(dataset)
    page.get_by_role("option", name=dataset, exact=True).click()
    page.wait_for_timeout(1500)
    for label, value in (("Batch size", 64), ("Max steps (0 = use epochs)", 10_000_000),
                         ("Quality (FID) every (0 = off)", 0), ("CPU threads (0 = all)", threads)):
        field = page.locator(f"input[aria-label='{label}']")
        details = field.locator("xpath=ancestor::details[1]")
        if details.count() and details.get_attribute("open") is None:
            details.locator("summary").first.click()
        field.fill(str(value))
        field.press("Enter")
        page.wait_for_timeout(700)
    page.locator(".st-key-train-start button").click()
    page.wait_for_selector(".st-key-live-loss-box svg.marks, .st-key-live-loss-box canvas", timeout=300_000)
    page.close()


def no_tab_base(rows: list[tuple], i: int) -> float:
    """The no-tab rate row i is compared with: the mean of the nearest no-tab rows before and after it (both when
    there are both), else the first no-tab row; 0 when there is none."""
    before = next((r[1] for r in reversed(rows[:i]) if r[0] == 0), None)
    after = next((r[1] for r in rows[i + 1:] if r[0] == 0), None)
    if rows[i][0] == 0:
        return rows[i][1]
    found = [v for v in (before, after) if v is not None]
    return sum(found) / len(found) if found else 0.0


def pooled_shares(rows: list[tuple]) -> list[str]:
    """One line per kind of tab row: its images over those of the no-tab rows around it, summed over every row of
    that kind, with the median and range of the single rows. On a shared host the no-tab rate itself moves by a
    third within minutes, so one pair of rows says little; many short alternating rows say more."""
    lines = []
    for kind in dict.fromkeys((r[0], r[-1]) for r in rows if r[0]):
        idx = [i for i, r in enumerate(rows) if (r[0], r[-1]) == kind and no_tab_base(rows, i)]
        if not idx:
            continue
        shares = sorted(rows[i][1] / no_tab_base(rows, i) for i in idx)
        pooled = sum(rows[i][1] for i in idx) / sum(no_tab_base(rows, i) for i in idx)
        lines.append(f"{kind[0]} tab(s){kind[1]}: pooled share {100 * pooled:.0f}% over {len(idx)} row(s); median "
                     f"{100 * statistics.median(shares):.0f}%, range {100 * shares[0]:.0f}-{100 * shares[-1]:.0f}%")
    return lines


def renderer_probe(page):
    """Start measuring a tab's renderer; the returned function gives the work per second since then."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable")

    def metrics() -> dict[str, float]:
        return {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}

    start, t0 = metrics(), time.monotonic()

    def report() -> str:
        end, dt = metrics(), time.monotonic() - t0
        per_s = {k: (end.get(k, 0.0) - start.get(k, 0.0)) / dt for k in end}
        return (f"tasks {per_s['TaskDuration']:.3f} s, script {per_s['ScriptDuration']:.3f} s, style "
                f"{per_s['RecalcStyleDuration']:.3f} s, layout {per_s['LayoutDuration']:.3f} s, "
                f"{per_s['LayoutCount']:.1f} layouts; {end['Nodes']:.0f} DOM nodes")

    return report


def run_steps(home: Path) -> int:
    from ganlab.runs import list_runs, read_status

    runs = list_runs(home / "runs")
    if not runs:
        return 0
    records = runs[0].read_metrics()
    last = max((r.get("step", 0) for r in records if "loss_d" in r), default=0)
    return max(int(last), int(read_status(runs[0]).get("step") or 0))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--warmup", type=float, default=10.0)
    parser.add_argument("--dataset", default="fashion-mnist")
    parser.add_argument("--tabs", default="0,1,3,0")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--threads", type=int, default=0, help="the run's CPU threads (0 = all, the default)")
    parser.add_argument("--profile", action="store_true", help="also print each tab's renderer main-thread work")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    from ganlab.runs.export import machine_description

    home = Path(tempfile.mkdtemp(prefix="ganlab-ui-load-"))
    server, url = start_server(home)
    print(f"machine: {machine_description()}; app at {url}; GANLAB_HOME={home}", flush=True)
    rows = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=os.environ.get("GANLAB_CHROMIUM", "/usr/bin/chromium"),
                                         args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            start_run(context, url, args.dataset, args.threads)
            for entry in args.tabs.split(","):
                tabs, form_open = int(entry.rstrip("f")), entry.endswith("f")
                pages = [open_train(context, url) for _ in range(tabs)]
                for page in pages if form_open else []:  # as a user setting up the next run while watching
                    page.get_by_text("Set up another run", exact=True).click()
                    page.locator(".st-key-train-start button").wait_for()
                time.sleep(args.warmup)
                probes = [renderer_probe(page) for page in pages] if args.profile else []
                workers = [p for p in descendants(server.pid) if "ganlab.train.spawned" in command(p)]
                chrome = chromium_pids()
                t0, s0 = time.monotonic(), run_steps(home)
                c0 = (cpu_seconds(server.pid), sum(map(cpu_seconds, workers)), sum(map(cpu_seconds, chrome)))
                time.sleep(args.seconds)
                t1, s1 = time.monotonic(), run_steps(home)
                for i, probe in enumerate(probes):
                    print(f"  tab {i + 1} renderer main thread per second: {probe()}", flush=True)
                chrome |= chromium_pids()
                c1 = (cpu_seconds(server.pid), sum(map(cpu_seconds, workers)), sum(map(cpu_seconds, chrome)))
                rate = (s1 - s0) * args.batch / (t1 - t0)
                cpu = [(b - a) / (t1 - t0) for a, b in zip(c0, c1)]
                rows.append((tabs, rate, *cpu, " (form open)" if form_open else ""))
                base = rows[0][1] or 1.0
                print(f"{entry} tab(s): {rate:8.0f} img/s ({100 * rate / base:5.1f}% of the first no-tab row) · CPU/s: app "
                      f"{cpu[0]:.2f}, worker {cpu[1]:.2f}, chromium {cpu[2]:.2f}", flush=True)
                for page in pages:
                    page.close()
            browser.close()
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)
    print("\n| tabs on the live panel | training img/s | share of no-tab | CPU app | CPU worker | CPU Chromium |")
    print("|---|---|---|---|---|---|")
    for i, (tabs, rate, app, worker, chrome, form) in enumerate(rows):
        share = f"{100 * rate / base:.0f}%" if (base := no_tab_base(rows, i)) else "—"
        print(f"| {tabs}{form} | {rate:,.0f} | {share} | {app:.2f} | {worker:.2f} | {chrome:.2f} |")
    for line in pooled_shares(rows):
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
