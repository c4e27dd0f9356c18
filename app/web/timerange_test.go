package web

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestPageRange(t *testing.T) {
	t.Parallel()
	now := time.Unix(1700000000, 0)
	ok := func(query, key string, start, end int64, live bool) {
		t.Helper()
		q, _ := url.ParseQuery(query)
		r, err := pageRange(q, now)
		if err != nil {
			t.Fatalf("%q: %s", query, err)
		}
		if r.Key != key || r.Start.Unix() != start || r.End.Unix() != end || r.Live != live {
			t.Fatalf("%q: %+v; want %s %d..%d live=%v", query, r, key, start, end, live)
		}
		if r.Seconds() != int(end-start) {
			t.Fatalf("%q: Seconds() = %d", query, r.Seconds())
		}
	}
	ok("", "1h", now.Unix()-3600, now.Unix(), true)
	ok("range=15m", "15m", now.Unix()-900, now.Unix(), true)
	ok("range=7d", "7d", now.Unix()-604800, now.Unix(), true)
	ok("range=30d&client=x", "30d", now.Unix()-2592000, now.Unix(), true)
	ok("from=1699990000&to=1699995000", "custom", 1699990000, 1699995000, false)
	ok("from=1699990000", "custom", 1699990000, now.Unix(), true)
	ok("from=1699990000&to=1800000000", "custom", 1699990000, now.Unix(), false) // end clamped to now
	ok("from=2023-11-14T20:00:00Z&to=2023-11-14T21:00", "custom", 1699992000, 1699995600, false)
	ok("range=bogus&from=1699990000", "custom", 1699990000, now.Unix(), true) // from wins

	bad := func(query, wantInErr string) {
		t.Helper()
		q, _ := url.ParseQuery(query)
		if _, err := pageRange(q, now); err == nil || !strings.Contains(err.Error(), wantInErr) {
			t.Fatalf("%q: error %v; want one mentioning %q", query, err, wantInErr)
		}
	}
	bad("range=2w", "range")
	bad("from=yesterday", "from")
	bad("to=1699995000", "from: missing")
	bad("from=1699995000&to=1699990000", "before")
	bad("from=1699995000&to=1699995000", "before")
	bad("from=1699990000&to=soon", "to")
	bad("from=1800000000&to=1800003600", "future")
}

func TestRangePickerKeepsParams(t *testing.T) {
	t.Parallel()
	now := time.Unix(1700000000, 0)
	q := url.Values{"client": {"a&b"}, "sort": {"age"}, "range": {"6h"}, "fragment": {"x"}, "page": {"3"}}
	r, _ := pageRange(q, now)
	p := rangePicker("/redis/c%20d", q, r)
	if p.Current != "6h" || p.Action != "/redis/c%20d" || p.From != 0 || p.To != 0 {
		t.Fatalf("picker %+v", p)
	}
	if len(p.Hidden) != 2 || p.Hidden[0].Name != "client" || p.Hidden[0].Value != "a&b" || p.Hidden[1].Name != "sort" {
		t.Fatalf("hidden fields %+v: want client and sort only", p.Hidden)
	}
	if len(p.Options) != 6 || p.Options[4].Key != "7d" || p.Options[4].URL != "/redis/c%20d?client=a%26b&range=7d&sort=age" {
		t.Fatalf("options %+v", p.Options)
	}
	q = url.Values{"from": {"1699990000"}, "to": {"1699995000"}}
	r, _ = pageRange(q, now)
	if p := rangePicker("/x", q, r); p.Current != "custom" || p.From != 1699990000 || p.To != 1699995000 || len(p.Hidden) != 0 {
		t.Fatalf("custom picker %+v", p)
	}
	q = url.Values{"from": {"1699990000"}}
	r, _ = pageRange(q, now)
	if p := rangePicker("/x", q, r); p.From != 1699990000 || p.To != 0 {
		t.Fatalf("open custom picker %+v: want no end", p)
	}
}
