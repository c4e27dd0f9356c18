package tsdb

import _ "unsafe" // for go:linkname

// numRawRowsShards is VictoriaMetrics' number of raw-row buffers per partition, set from
// GOMAXPROCS when lib/storage initialises; initVM sets it to 1 before the first Open creates a
// partition. Each buffer, once a row lands in it, holds 8 MiB for good
// (lib/storage.maxRawRowsPerShard): with two stores (samples and rollups) on a 2-core machine
// that was 32 MiB of a 73 MiB heap at 10,000 watched keys, and one buffer each took RSS there
// from 157 to 139 MB. redwatch writes tens of thousands of rows a round; what one buffer costs
// shows only under many concurrent writers: remote write from 8 clients at ~3.5 M samples/s
// was ~8 % slower (0.84x against 0.91x victoria-metrics' rate, rwload).
//
//go:linkname numRawRowsShards github.com/VictoriaMetrics/VictoriaMetrics/lib/storage.numRawRowsShards
var numRawRowsShards int
