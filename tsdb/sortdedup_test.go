package tsdb

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSortDedupMatchesStableSort: points of overlapping blocks (runs of ascending timestamps,
// repeated timestamps across runs) come out sorted, with the value written last for a repeated
// timestamp, exactly as a stable sort followed by the dedup gives.
func TestSortDedupMatchesStableSort(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 300 {
		var ps []Point
		for range 1 + r.IntN(6) { // runs
			ts := int64(r.IntN(50))
			for range r.IntN(40) {
				ts += int64(r.IntN(3)) // ascending, with repeats
				ps = append(ps, Point{Timestamp: ts, Value: float64(len(ps))})
			}
		}
		want := slices.Clone(ps)
		slices.SortStableFunc(want, func(a, b Point) int { return cmp.Compare(a.Timestamp, b.Timestamp) })
		var wantOut []Point
		for _, p := range want {
			if k := len(wantOut); k > 0 && wantOut[k-1].Timestamp == p.Timestamp {
				wantOut[k-1] = p
				continue
			}
			wantOut = append(wantOut, p)
		}
		if got := sortDedup(ps); !slices.Equal(got, wantOut) {
			t.Fatalf("case %d: got %v, want %v", n, got, wantOut)
		}
	}
}

func BenchmarkSortDedupOverlappingBlocks(b *testing.B) {
	// 8 overlapping blocks of 1,000 points each, as a backfilled series' late rollup reads them.
	var src []Point
	for blk := range 8 {
		for i := range 1000 {
			src = append(src, Point{Timestamp: int64(i*8 + blk), Value: float64(i)})
		}
	}
	ps := make([]Point, len(src))
	for b.Loop() {
		copy(ps, src)
		sortDedup(ps)
	}
}
