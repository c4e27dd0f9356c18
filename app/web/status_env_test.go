package web

import (
	"context"
	"testing"
	"time"

	"github.com/redwatch/redwatch/app/health"
	"github.com/redwatch/redwatch/tsdb"
)

// statusDisk is the storage health.Checker reports on /status and /health: fixed figures.
type statusDisk struct {
	pingErr  error
	ds       tsdb.DiskState
	stats    tsdb.Stats
	statsErr error
}

var _ health.Storage = statusDisk{}

func (d statusDisk) Ping(context.Context) (time.Duration, error) {
	return 1500 * time.Microsecond, d.pingErr
}
func (d statusDisk) DiskFree() (uint64, error)  { return d.ds.FreeBytes, nil }
func (d statusDisk) DiskState() tsdb.DiskState  { return d.ds }
func (d statusDisk) Stats() (tsdb.Stats, error) { return d.stats, d.statsErr }

// healthyDisk is a storage in good shape: 12 series, 3,400 rows, 1 MiB used, 5 GiB free.
var healthyDisk = statusDisk{
	ds:    tsdb.DiskState{FreeBytes: 5 << 30, MinFreeBytes: 64 << 20},
	stats: tsdb.Stats{Series: 12, Rows: 3400, DiskUsedBytes: 1 << 20, DiskFreeBytes: 5 << 30, SamplesWritten: 99, Path: "/data"},
}

// newStatusEnv is an env on a statusStore whose health reports storage d; mod, if set,
// changes the Options further.
func newStatusEnv(t testing.TB, st *statusStore, d statusDisk, mod func(o *Options)) *env {
	t.Helper()
	return newEnvWith(t, envOptions{store: st, mod: func(o *Options) {
		o.Health.Storage = d
		if mod != nil {
			mod(o)
		}
	}})
}

// statusRequestSeries is a day of request series before now: every counter has a baseline
// point before the window (at 1000) and one within it. 200 requests on /keys (20 of them 5xx),
// 30 on /status, 10 on /health/targets answered 503 (reports about a watched target, not
// 5xx); 230 observed, in total 2.3 s; bucket increases giving statusP95.
func statusRequestSeries(now time.Time) []tsdb.Series {
	before, within := now.Add(-24*time.Hour-5*time.Minute).UnixMilli(), now.Add(-time.Hour).UnixMilli()
	counter := func(name string, inc float64, labels ...tsdb.Label) tsdb.Series {
		return tsdb.Series{Name: name, Labels: labels, Points: []tsdb.Point{{Timestamp: before, Value: 1000}, {Timestamp: within, Value: 1000 + inc}}}
	}
	ss := []tsdb.Series{
		counter("redwatch_http_requests_total", 180, lbls("code", "200", "route", "/keys")...),
		counter("redwatch_http_requests_total", 20, lbls("code", "500", "route", "/keys")...),
		counter("redwatch_http_requests_total", 30, lbls("code", "200", "route", "/status")...),
		counter("redwatch_http_requests_total", 10, lbls("code", "503", "route", "/health/targets")...),
		counter("redwatch_http_request_duration_seconds_sum", 2.3),
		counter("redwatch_http_request_duration_seconds_count", 230),
	}
	for le, inc := range map[string]float64{"0.005": 100, "0.01": 150, "0.025": 180, "0.05": 225, "0.1": 229, "10": 230, "+Inf": 230} {
		ss = append(ss, counter("redwatch_http_request_duration_seconds_bucket", inc, lbls("le", le)...))
	}
	return ss
}

// statusP95 is the p95 of statusRequestSeries: rank 218.5 of 230, in the (0.025, 0.05] bucket.
const statusP95 = 0.025 + 0.025*(218.5-180)/(225-180)
