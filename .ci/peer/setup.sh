#!/usr/bin/env bash
# setup.sh N: redis-server on 16391 with N list keys q:0..N-1 (10 elements each)
set -e
mkdir -p "${DIR:-/tmp/redwatch-peer}"
N=${1:-10000}
PORT=16391
redis-cli -p $PORT shutdown nosave >/dev/null 2>&1 || true
sleep 0.3
redis-server --port $PORT --save '' --appendonly no --daemonize yes --logfile "${DIR:-/tmp/redwatch-peer}"/redis.log --dir "${DIR:-/tmp/redwatch-peer}"
sleep 0.5
python3 - "$N" <<'PY' | redis-cli -p 16391 --pipe >/dev/null
import sys
n=int(sys.argv[1])
out=sys.stdout
for i in range(n):
    k=f"q:{i}"
    args=["RPUSH",k]+[str(j) for j in range(10)]
    out.write(f"*{len(args)}\r\n"+"".join(f"${len(a)}\r\n{a}\r\n" for a in args))
PY
redis-cli -p $PORT dbsize
