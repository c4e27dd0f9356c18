// rwload: posts the same payloads to redwatch and victoria-metrics, interleaved, with 8
// concurrent clients; prints samples/s per run. Scratch tool, not part of redwatch.
package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/VictoriaMetrics/lib/prompb"
	"github.com/golang/snappy"
)

func rwPayloads(n int, base int64) [][]byte {
	var out [][]byte
	for p := 0; p < n; p++ {
		var wr prompb.WriteRequest
		for s := 0; s < 1000; s++ {
			ts := prompb.TimeSeries{Labels: []prompb.Label{{Name: "__name__", Value: "load_metric"}, {Name: "host", Value: fmt.Sprintf("h%d", s%50)}, {Name: "series", Value: fmt.Sprintf("s%d", s)}}}
			for j := 0; j < 10; j++ {
				ts.Samples = append(ts.Samples, prompb.Sample{Value: float64(j), Timestamp: base + int64(p*10+j)*1000})
			}
			wr.Timeseries = append(wr.Timeseries, ts)
		}
		out = append(out, snappy.Encode(nil, wr.MarshalProtobuf(nil)))
	}
	return out
}

func lpPayloads(n int, base int64) [][]byte {
	var out [][]byte
	for p := 0; p < n; p++ {
		var b strings.Builder
		for l := 0; l < 1000; l++ {
			fmt.Fprintf(&b, "load,host=h%d,series=s%d f1=1,f2=2,f3=3,f4=4,f5=5 %d\n", l%50, l, (base+int64(p)*1000)*1e6)
		}
		out = append(out, []byte(b.String()))
	}
	return out
}

func run(url, ctype, token string, payloads [][]byte, per int, d time.Duration) float64 {
	var n atomic.Int64
	var idx atomic.Int64
	stop := time.Now().Add(d)
	var wg sync.WaitGroup
	start := time.Now()
	for c := 0; c < 8; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) {
				p := payloads[int(idx.Add(1))%len(payloads)]
				req, _ := http.NewRequest("POST", url, bytes.NewReader(p))
				req.Header.Set("Content-Type", ctype)
				if ctype == "application/x-protobuf" {
					req.Header.Set("Content-Encoding", "snappy")
				}
				if token != "" {
					req.Header.Set("Authorization", "Bearer "+token)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					return
				}
				resp.Body.Close()
				if resp.StatusCode/100 != 2 {
					fmt.Fprintln(os.Stderr, url, resp.Status)
					return
				}
				n.Add(int64(per))
			}
		}()
	}
	wg.Wait()
	return float64(n.Load()) / time.Since(start).Seconds()
}

func median(v []float64) float64 { sort.Float64s(v); return v[len(v)/2] }

func main() {
	rw, vm, token := os.Args[1], os.Args[2], os.Args[3]
	base := time.Now().Add(-50 * time.Minute).UnixMilli()
	rwp, lpp := rwPayloads(300, base), lpPayloads(300, base)
	for _, kind := range []string{"remote-write", "line-protocol"} {
		var a, b []float64
		for i := 0; i < 3; i++ {
			if kind == "remote-write" {
				a = append(a, run(rw+"/api/v1/write", "application/x-protobuf", token, rwp, 10000, 8*time.Second))
				b = append(b, run(vm+"/api/v1/write", "application/x-protobuf", "", rwp, 10000, 8*time.Second))
			} else {
				a = append(a, run(rw+"/write", "text/plain", token, lpp, 5000, 8*time.Second))
				b = append(b, run(vm+"/write", "text/plain", "", lpp, 5000, 8*time.Second))
			}
			fmt.Printf("%s run %d: redwatch %.0f  vm %.0f samples/s\n", kind, i, a[i], b[i])
		}
		ma, mb := median(a), median(b)
		fmt.Printf("== %s median: redwatch %.0f  vm %.0f samples/s  ratio %.2f\n", kind, ma, mb, ma/mb)
	}
}
