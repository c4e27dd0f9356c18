package assets

import "testing"

// shipped are the files every dashboard page loads (views/layouts/base.templ).
var shipped = []string{"app.js", "htmx.min.js", "uPlot.iife.min.js", "uPlot.min.css", "app.css"}

// gzipSizes returns the gzip size of each shipped file (as Handler serves it) and the total.
func gzipSizes(tb testing.TB) (map[string]int, int) {
	tb.Helper()
	sizes := map[string]int{}
	total := 0
	for _, name := range shipped {
		n, ok := GzipSize(name)
		if !ok {
			tb.Fatalf("%s is not embedded", name)
		}
		sizes[name] = n
		total += n
	}
	return sizes, total
}

// TestShippedBytes logs what a browser downloads, compressed and not, and keeps the total in
// check: a page must stay under 62 KiB (the dashboard issue's budget) of gzip JS+CSS.
func TestShippedBytes(t *testing.T) {
	sizes, total := gzipSizes(t)
	plain := 0
	for _, name := range shipped {
		data, _ := files.ReadFile(name)
		plain += len(data)
		t.Logf("%-18s %7d B  gzip %6d B", name, len(data), sizes[name])
	}
	t.Logf("%-18s %7d B  gzip %6d B", "total", plain, total)
	if total > 62<<10 {
		t.Errorf("pages ship %d bytes of gzip JS+CSS, over the 62 KiB budget", total)
	}
}

// BenchmarkAssetsGzip reports the gzip size of each JS and CSS file the pages load, and their
// total, as metrics (run with -bench AssetsGzip -benchtime 1x).
func BenchmarkAssetsGzip(b *testing.B) {
	for b.Loop() {
		gzipBytes(mustRead(b, "app.js"))
	}
	sizes, total := gzipSizes(b)
	for _, name := range shipped {
		b.ReportMetric(float64(sizes[name]), name+"_gzip_bytes")
	}
	b.ReportMetric(float64(total), "total_gzip_bytes")
}

func mustRead(tb testing.TB, name string) []byte {
	tb.Helper()
	data, err := files.ReadFile(name)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}
