package tsdb

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// The series index. By default VictoriaMetrics indexes a series twice in each monthly
// partition: once for the partition (the global index) and once more for every day the series
// has samples (the per-day index), which pays off for stores whose series come and go by the
// million (Kubernetes pods). redwatch's series are a set that changes slowly (the watched keys,
// the INFO fields, the hosts), the case VictoriaMetrics' documentation recommends
// -disablePerDayIndex for ("Index tuning for low churn rate"): a new series then writes about
// half the index entries, and a sample skips the per-day bookkeeping. At 100,000 watched keys
// (400,000 new series) the first pass takes 4–6 s instead of 6–9 s (.ci/peer/first-pass.sh).
//
// The choice belongs to the data, not to the binary. A series written with the per-day index is
// found through an entry the global-only mode does not read, so that mode would give a series of
// an older store a second identity; and turning the per-day index back on makes data written
// without it unsearchable. So a storage directory created by this version holds the marker
// globalIndexMarker and is always opened without the per-day index; one created before keeps it.

// globalIndexMarker is the file in a storage directory created without the per-day index.
const globalIndexMarker = "redwatch-global-index"

// globalIndexOnly reports whether the storage directory path, about to be opened, is indexed
// without the per-day index. A new one (see storageExists) is: it gets the marker now.
func globalIndexOnly(path string) (bool, error) {
	marker := filepath.Join(path, globalIndexMarker)
	_, err := os.Stat(marker)
	if err == nil {
		return true, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("cannot read the index marker: %w", err)
	}
	if storageExists(path) {
		return false, nil // made by a redwatch before the marker: keeps the per-day index
	}
	note := []byte("This storage is indexed without VictoriaMetrics' per-day index (redwatch tsdb/index.go).\n")
	if err := writeFileSynced(marker, note); err != nil {
		return false, fmt.Errorf("cannot write the index marker: %w", err)
	}
	return true, nil
}
