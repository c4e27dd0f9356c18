package config

import "testing"

func TestMemoryLimitBytes(t *testing.T) {
	f := func(text string, want int64, wantSet bool) {
		t.Helper()
		cfg, err := loadText(t, "[storage]\nmemory_limit = \""+text+"\"\n"+testRedis)
		if err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		got, set := cfg.Storage.MemoryLimitBytes()
		if got != want || set != wantSet {
			t.Errorf("%q: %d %v, want %d %v", text, got, set, want, wantSet)
		}
	}
	f("", DefaultMemoryLimitBytes, false)
	f("512MiB", 512<<20, true)
	f("1.5GiB", 3<<29, true)
	f("100MB", 100e6, true)
	f("67108864", 64<<20, true)
	f(" 2 GiB ", 2<<30, true)
}
