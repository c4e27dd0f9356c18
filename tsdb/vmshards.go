package tsdb

import _ "unsafe" // for go:linkname

// numRawRowsShards is VictoriaMetrics' number of raw-row buffers per partition, set from
// GOMAXPROCS when lib/storage initialises. Each buffer, once a row lands in it, holds 8 MiB
// for good (lib/storage.maxRawRowsPerShard), and every flush copies the rows into a fresh 8 MiB
// one: with two stores (samples and rollups) on a 2-core machine that was 32 MiB of a
// 73 MiB heap at 10,000 watched keys. redwatch writes tens of thousands of rows a round, from
// a few goroutines, so one buffer per partition costs no measurable contention (see initVM).
// It must be set before the first Open creates a partition.
//
//go:linkname numRawRowsShards github.com/VictoriaMetrics/VictoriaMetrics/lib/storage.numRawRowsShards
var numRawRowsShards int

// vmShardsAtInit is numRawRowsShards as lib/storage set it (tsdb initialises after it): 0 would
// mean the linkname no longer names VictoriaMetrics' variable (TestRawRowsShards).
var vmShardsAtInit = numRawRowsShards
