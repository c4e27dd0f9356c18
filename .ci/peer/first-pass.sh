#!/usr/bin/env bash
# first-pass.sh BIN [N]: the first pass over a pattern of N keys (default 100000) after start, on
# a fresh data directory: the scan and the slowest keys pass /status reports 25 s after start
# (the first pass is the slowest: it creates every series), with RSS then and the peak. Reads
# /status's sampling fragment, not /metrics, whose 400,000-line scrape costs seconds of CPU and
# would slow the pass it measures. Needs .ci/peer/setup.sh N first.
set -u
BIN=$1; N=${2:-100000}
W=$(mktemp -d)
cat > $W/rw.toml <<C
[server]
listen = "127.0.0.1:18080"
[storage]
max_series = 2000000
[[redis]]
name = "bench"
addr = "127.0.0.1:16391"
interval = "10s"
  [[redis.keys]]
  pattern = "q:*"
  max_keys = $N
C
REDWATCH_ADMIN_PASSWORD=benchpass123 $BIN --config $W/rw.toml --data $W/data > $W/log 2>&1 &
P=$!
sleep 25
curl -s -u admin:benchpass123 'http://127.0.0.1:18080/status?fragment=status-sampling' > $W/status.html
rss=$(awk '/VmRSS/{print $2}' /proc/$P/status); hwm=$(awk '/VmHWM/{print $2}' /proc/$P/status)
python3 - $W/status.html "$rss" "$hwm" "$(basename $BIN)" <<'PY'
import re, sys
html, rss, hwm, name = open(sys.argv[1]).read(), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
def phase(p):
    row = re.search(r'data-phase="%s">(.*?)</tr>' % p, html).group(1)
    return {k: v for k, v in re.findall(r'data-testid="phase-(\w+)">([^<]*)<', row)}
k, s = phase("keys"), phase("scan")
print(f"{name}: scan {s['last']}  first pass (slowest of {k['runs']} keys runs) {k['max']}  RSS {rss/1024:.0f} MiB  peak {hwm/1024:.0f} MiB")
PY
kill $P; wait $P 2>/dev/null; rm -rf $W
