package ingest_test

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/golang/snappy"

	"github.com/redwatch/redwatch/app/ingest"
)

// Ingest benchmarks: whole requests through the handlers (token check, slot, spool, decode,
// validate, chunked writes) into a real tsdb, as /tmp load tests against victoria-metrics
// single post them: remote write of 1,000 series × 10 samples per request, line protocol of
// 1,000 lines × 5 fields. They report samples/s and allocations per sample.

func benchIngest(b *testing.B, payloads [][]byte, samplesPer int, headers map[string]string, target string) {
	e := newEnv(b, ingest.Options{Tokens: []string{token}})
	e.clock.Store(time.Now().UnixNano())
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	post := func(p []byte) {
		req, err := http.NewRequest(http.MethodPost, e.ts.URL+target, bytes.NewReader(p))
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusNoContent {
			b.Fatalf("status %d: %s", res.StatusCode, body)
		}
	}
	for _, p := range payloads { // series created before timing, as in a steady state
		post(p)
	}
	b.ReportAllocs()
	b.SetParallelism(4) // 8 clients on 2 cores, as the load test against victoria-metrics
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		k := 0
		for pb.Next() {
			post(payloads[k%len(payloads)])
			k++
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N*samplesPer)/b.Elapsed().Seconds(), "samples/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*samplesPer), "ns/sample")
	b.ReportMetric(0, "ns/op")
}

func BenchmarkRemoteWrite(b *testing.B) {
	const series, per, blocks = 1000, 10, 4
	base := time.Now().Add(-time.Hour).UnixMilli()
	var payloads [][]byte
	for blk := range blocks {
		payloads = append(payloads, benchRemoteWrite(blk, series, per, base))
	}
	benchIngest(b, payloads, series*per, map[string]string{"Content-Encoding": "snappy", "Content-Type": "application/x-protobuf"}, "/api/v1/write")
}

func BenchmarkInfluxWrite(b *testing.B) {
	const lines, blocks = 1000, 4
	base := time.Now().Add(-time.Hour).UnixMilli()
	var payloads [][]byte
	for blk := range blocks {
		var buf bytes.Buffer
		for l := range lines {
			id := blk*lines + l
			fmt.Fprintf(&buf, "cpu,host=host-%d,cpu=cpu%d usage_user=%d.5,usage_system=%di,usage_idle=%d.25,usage_iowait=0.5,usage_irq=%d %d\n",
				id/8, id%8, id%97, id%13, id%100, l, base)
		}
		payloads = append(payloads, buf.Bytes())
	}
	benchIngest(b, payloads, lines*5, nil, "/write?precision=ms")
}

// benchRemoteWrite is a snappy-compressed WriteRequest of block blk: series series of per
// samples each, one second apart from base.
func benchRemoteWrite(blk, series, per int, base int64) []byte {
	var wr []byte
	for s := range series {
		id := blk*series + s
		var ts []byte
		for _, l := range [][2]string{{"__name__", fmt.Sprintf("bench_metric_%d", id%50)}, {"instance", fmt.Sprintf("host-%d:9100", id/50)},
			{"job", "node"}, {"mode", []string{"user", "system", "idle", "iowait"}[id%4]}} {
			ts = pbField(ts, 1, pbField(pbField(nil, 1, []byte(l[0])), 2, []byte(l[1])))
		}
		for k := range per {
			smp := pbVarint(nil, 1<<3|1)
			u := math.Float64bits(float64(id*7 + k))
			for i := range 8 {
				smp = append(smp, byte(u>>(8*i)))
			}
			smp = pbVarint(pbVarint(smp, 2<<3), uint64(base+int64(k)*1000))
			ts = pbField(ts, 2, smp)
		}
		wr = pbField(wr, 1, ts)
	}
	return snappy.Encode(nil, wr)
}

func pbVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func pbField(b []byte, num int, data []byte) []byte {
	return append(pbVarint(pbVarint(b, uint64(num)<<3|2), uint64(len(data))), data...)
}
