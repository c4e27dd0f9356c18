#!/usr/bin/env bash
# conf.sh N > file: redwatch config watching q:0..N-1 as exact keys
N=${1:-10000}
cat <<C
[server]
listen = "127.0.0.1:18080"
[auth]
[[redis]]
name = "bench"
addr = "127.0.0.1:16391"
interval = "10s"
C
for ((i=0;i<N;i++)); do printf '  [[redis.keys]]\n  key = "q:%d"\n' $i; done
