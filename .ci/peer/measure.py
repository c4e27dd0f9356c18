#!/usr/bin/env python3
"""measure.py CYCLES LABEL [KEYS]: interleaved redwatch key rounds vs redis_exporter scrapes on the
same Redis (port 16391). Each cycle: a 30 s window of redwatch alone (3 rounds: its CPU, Redis
CPU), then 3 exporter scrapes timed one by one (Redis CPU tight around each curl)."""
import sys, time, subprocess, json, statistics, urllib.request, base64, os
CYC = int(sys.argv[1]); LABEL = sys.argv[2]
RW = "http://127.0.0.1:18080"; EXP = "http://127.0.0.1:19121/metrics"
AUTH = "Basic " + base64.b64encode(b"admin:benchpass123").decode()
TCK = os.sysconf("SC_CLK_TCK")
def pid(pat): return int(subprocess.check_output(["pgrep", "-f", pat]).split()[0])
def cpu(p):
    f = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / TCK
def rss(p):
    for l in open(f"/proc/{p}/status"):
        if l.startswith("VmRSS"): return int(l.split()[1]) / 1024
def rcpu():
    out = subprocess.check_output(["redis-cli", "-p", "16391", "info", "cpu"]).decode()
    d = dict(l.split(":") for l in out.split("\r\n") if ":" in l)
    return float(d["used_cpu_user"]) + float(d["used_cpu_sys"])
def get(url, auth=False):
    r = urllib.request.Request(url)
    if auth: r.add_header("Authorization", AUTH)
    t = time.perf_counter(); b = urllib.request.urlopen(r).read(); return time.perf_counter() - t, b
rw, ex = pid("redwatch --config"), pid("redis_exporter")
N = int(sys.argv[3]) if len(sys.argv) > 3 else 10000
t_start = time.time()
rw_cpu, rw_rcpu, ex_t, ex_rcpu, rw_rss, ex_rss = [], [], [], [], [], []
ex_cpu_total, nscr = 0.0, 0
for c in range(CYC):
    r0, p0 = rcpu(), cpu(rw); time.sleep(30); r1, p1 = rcpu(), cpu(rw)
    rw_cpu.append((p1 - p0) / 3); rw_rcpu.append((r1 - r0) / 3)
    rw_rss.append(rss(rw)); 
    for s in range(3):
        time.sleep(2)
        e0, r0 = cpu(ex), rcpu(); dt, _ = get(EXP); e1, r1 = cpu(ex), rcpu()
        ex_t.append(dt); ex_rcpu.append(r1 - r0); ex_cpu_total += e1 - e0; nscr += 1
    ex_rss.append(rss(ex))
    print(f"cycle {c}: rw cpu/round {rw_cpu[-1]*1000:.0f} ms rss {rw_rss[-1]:.0f} MB | exp scrape {ex_t[-1]*1000:.0f} ms rss {ex_rss[-1]:.0f} MB", flush=True)
end = time.time()
_, b = get(f"{RW}/api/v1/query_range?query=redwatch_sampler_duration_seconds{{phase=%22keys%22}}&start={t_start:.0f}&end={end:.0f}&step=10s", True)
vals = [float(v[1]) for v in json.loads(b)["data"]["result"][0]["values"]]
med = statistics.median
print(f"== {LABEL}: {CYC} cycles, {len(vals)} redwatch rounds, {nscr} exporter scrapes")
print(f"round wall  redwatch median {med(vals)*1000:.1f} ms (min {min(vals)*1000:.1f})  exporter median {med(ex_t)*1000:.1f} ms (min {min(ex_t)*1000:.1f})  ratio {med(vals)/med(ex_t):.2f}")
print(f"CPU/round   redwatch median {med(rw_cpu)*1000:.0f} ms = {med(rw_cpu)/N*1e6:.1f} us/key   exporter {ex_cpu_total/nscr*1000:.0f} ms = {ex_cpu_total/nscr/N*1e6:.1f} us/key")
print(f"Redis CPU   redwatch per round (whole 10 s incl. INFO, idle) {med(rw_rcpu)*1000:.1f} ms  exporter per scrape {med(ex_rcpu)*1000:.1f} ms")
print(f"RSS         redwatch last {rw_rss[-1]:.0f} MB (max {max(rw_rss):.0f})  exporter last {ex_rss[-1]:.0f} MB")
