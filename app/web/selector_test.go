package web

import (
	"testing"

	"github.com/redwatch/redwatch/tsdb"
	"github.com/redwatch/redwatch/views/components"
)

// Selectors built for charts and export links select exactly the series they name, whatever
// bytes the key holds (TestKeysHostileNames does it through storage).
func TestSeriesSelectorRoundTrip(t *testing.T) {
	t.Parallel()
	for _, key := range []string{"queue:emails", "a\xffb", "nul\x00byte", `quote"back\slash`, "new\nline", "tab\tcr\r", hostileKey, "ключ"} {
		sel, err := tsdb.ParseSelector(components.SeriesSelector("redis_key_length", "instance", "main", "key", key))
		if err != nil {
			t.Fatalf("%q: %v", key, err)
		}
		// Labels as storage holds them: tsdb.LabelValue encodes a key that is not valid UTF-8.
		labels := []tsdb.Label{{Name: "instance", Value: "main"}, {Name: "key", Value: tsdb.LabelValue(key)}}
		if !sel.Matches("redis_key_length", labels) {
			t.Errorf("%q: the selector does not select its own key", key)
		}
		if sel.Matches("redis_key_length", []tsdb.Label{{Name: "instance", Value: "main"}, {Name: "key", Value: tsdb.LabelValue(key + "x")}}) {
			t.Errorf("%q: the selector selects another key", key)
		}
	}
}
