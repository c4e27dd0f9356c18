package queryengine

import (
	"context"
	"log/slog"
	"net/url"
	"testing"
	"time"

	"github.com/redwatch/redwatch/app/vmtest"
	"github.com/redwatch/redwatch/tsdb"
)

// BenchmarkLocalVsVictoriaMetrics times the same range queries over the data of
// TestLocalEqualsVictoriaMetrics (230 series × 6 h, a sample every 30 s) through Local (the
// in-process engine) and through Remote of a victoria-metrics single-node (HTTP and JSON;
// both with their rollup result cache, as deployed): what storage.remote costs on one machine, without the network.
func BenchmarkLocalVsVictoriaMetrics(b *testing.B) {
	vm := vmtest.Start(b, "-search.disableCache=false") // both engines with their rollup result cache
	db, err := tsdb.Open(tsdb.Options{Path: b.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	start := time.Now().Add(-8 * time.Hour).Truncate(time.Hour)
	samples := eqSamples(start)
	if err := db.Write(samples); err != nil {
		b.Fatal(err)
	}
	db.Flush()
	remoteWrite(b, vm.WriteURL(), samples)
	vm.Flush()
	remote, err := NewRemote(RemoteOptions{URL: vm.PromURL()})
	if err != nil {
		b.Fatal(err)
	}
	engines := []struct {
		name string
		e    Engine
	}{{"local", NewLocal(db)}, {"vm", remote}}
	for _, q := range []struct{ name, expr string }{
		{"rate100series6h", `rate(rw_eq_commands_total[5m])`},
		{"sumby6h", `sum by (instance) (rate(rw_eq_commands_total[5m]))`},
		{"histogram_quantile6h", `histogram_quantile(0.9, sum by (instance, le) (rate(rw_eq_latency_seconds_bucket[5m])))`},
	} {
		for _, en := range engines {
			b.Run(q.name+"/"+en.name, func(b *testing.B) {
				for b.Loop() {
					ss, err := en.e.QueryRangeExpr(context.Background(), q.expr, start, start.Add(6*time.Hour), time.Minute)
					if err != nil || len(ss) == 0 {
						b.Fatalf("%d series, %v", len(ss), err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/query")
			})
		}
		// The same request to the VM, its answer read but not decoded: what decoding costs.
		b.Run(q.name+"/vm-undecoded", func(b *testing.B) {
			form := url.Values{"query": {q.expr}, "start": {secs(start)}, "end": {secs(start.Add(6 * time.Hour))}, "step": {"60s"}, "latency_offset": {"1ms"}}
			for b.Loop() {
				code, body, err := remote.do(context.Background(), "/api/v1/query_range", form)
				if err != nil || code != 200 || len(body) == 0 {
					b.Fatalf("%d %v", code, err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/query")
		})
	}
}
