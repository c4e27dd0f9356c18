package settings

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redwatch/redwatch/app/config"
)

// TestInstanceTimeoutFollowsInterval: a blank timeout is stored as 0 and is min(2s, interval)
// whatever the interval becomes; an explicit one is kept and may equal the interval.
func TestInstanceTimeoutFollowsInterval(t *testing.T) {
	dir := t.TempDir()
	a := &applier{}
	s := open(t, dir, a, nil)
	sec := func(n float64) config.Duration { return config.Duration(n * float64(time.Second)) }

	mustUpdate(t, s, AddInstance(Instance{Name: "fast", Addr: "127.0.0.1:7000", Interval: sec(1)}))
	if got := find(a.last(), "fast"); got.Timeout != sec(1) {
		t.Fatalf("interval 1s, blank timeout: applied timeout %s, want 1s", got.Timeout)
	}
	d, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if d.Instances[0].Timeout != 0 {
		t.Fatalf("stored timeout %s, want 0 (follows the interval)", d.Instances[0].Timeout)
	}
	if iv := s.View().Instances[1]; iv.OwnTimeout || iv.Redis.Timeout != sec(1) {
		t.Fatalf("view: own %v, timeout %s; want a 1s timeout that follows the interval", iv.OwnTimeout, iv.Redis.Timeout)
	}
	mustUpdate(t, s, EditInstance("fast", Instance{Name: "fast", Addr: "127.0.0.1:7000", Interval: sec(30)}, false))
	if got := find(a.last(), "fast"); got.Timeout != sec(2) {
		t.Fatalf("interval 30s, blank timeout: applied timeout %s, want 2s", got.Timeout)
	}
	mustUpdate(t, s, EditInstance("fast", Instance{Name: "fast", Addr: "127.0.0.1:7000", Interval: sec(1.5)}, false))
	if got := find(a.last(), "fast"); got.Timeout != sec(1.5) {
		t.Fatalf("interval 1.5s, blank timeout: applied timeout %s, want 1.5s", got.Timeout)
	}
	mustUpdate(t, s, EditInstance("fast", Instance{Name: "fast", Addr: "127.0.0.1:7000", Interval: sec(1), Timeout: sec(1)}, false))
	if got := find(a.last(), "fast"); got.Timeout != sec(1) {
		t.Fatalf("timeout = interval: applied timeout %s, want 1s", got.Timeout)
	}
	if iv := s.View().Instances[1]; !iv.OwnTimeout {
		t.Fatal("an explicit timeout is shown as following the interval")
	}
	err = s.Update("alice", EditInstance("fast", Instance{Name: "fast", Addr: "127.0.0.1:7000", Interval: sec(1), Timeout: sec(2)}, false))
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Fields["timeout"] != "must not exceed interval (1s), got 2s" {
		t.Fatalf("timeout 2s > interval 1s: %v", err)
	}
}

// TestLoadLegacyTimeout: files written when a blank timeout was stored as 2s read it as
// blank, so shortening the interval later does not meet a timeout nobody typed.
func TestLoadLegacyTimeout(t *testing.T) {
	dir := t.TempDir()
	legacy := `{"version":1,"redis":[{"name":"old","addr":"127.0.0.1:7000","db":0,"interval":"10s","timeout":"2s"},
{"name":"own","addr":"127.0.0.1:7001","db":0,"interval":"10s","timeout":"5s"}],"keys":[],"rules":[],"rules_seeded":true}`
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte(legacy), 0o600); err != nil {
		t.Fatal(err)
	}
	d, err := Load(dir)
	if err != nil || len(d.Instances) != 2 || d.Instances[0].Timeout != 0 || d.Instances[1].Timeout != config.Duration(5*time.Second) {
		t.Fatalf("loaded timeouts: %+v %v; want 0 (blank) and 5s", d.Instances, err)
	}
	a := &applier{}
	s := open(t, dir, a, nil)
	for _, iv := range s.View().Instances {
		if iv.Source == SourceUI && iv.OwnTimeout != (iv.Redis.Name == "own") {
			t.Fatalf("view of %s: own timeout %v", iv.Redis.Name, iv.OwnTimeout)
		}
	}
	if eff := s.Effective(); find(eff, "old").Timeout != config.DefaultRedisTimeout || find(eff, "own").Timeout != config.Duration(5*time.Second) {
		t.Fatalf("effective timeouts: %s %s", find(eff, "old").Timeout, find(eff, "own").Timeout)
	}
	mustUpdate(t, s, EditInstance("old", Instance{Name: "old", Addr: "127.0.0.1:7000", Interval: config.Duration(time.Second)}, false))
	if got := find(a.last(), "old"); got.Timeout != config.Duration(time.Second) {
		t.Fatalf("legacy instance at interval 1s: timeout %s, want 1s", got.Timeout)
	}
}

// TestKeyExpectExists: expect_exists is stored, merged into the effective key, and refused on
// a pattern under the form field expect_exists.
func TestKeyExpectExists(t *testing.T) {
	dir := t.TempDir()
	a := &applier{}
	s := open(t, dir, a, nil)
	yes, no := true, false
	mustUpdate(t, s, AddInstance(Instance{Name: "ui1", Addr: "127.0.0.1:7000"}))
	mustUpdate(t, s, AddKey("ui1", Key{Key: "config:flags", ExpectExists: &yes}))
	mustUpdate(t, s, AddKey("ui1", Key{Key: "lock", ExpectExists: &no}))
	mustUpdate(t, s, AddKey("ui1", Key{Key: "queue:jobs"}))
	keys := find(a.last(), "ui1").Keys
	if len(keys) != 3 || keys[0].ExpectExists == nil || !*keys[0].ExpectExists || keys[1].ExpectExists == nil || *keys[1].ExpectExists || keys[2].ExpectExists != nil {
		t.Fatalf("effective keys: %+v", keys)
	}
	b, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), `"expect_exists"`); n != 2 {
		t.Fatalf("settings.json has %d expect_exists, want 2:\n%s", n, b)
	}
	// Reopened, the values are still there.
	s2 := open(t, dir, a, nil)
	keys = find(s2.Effective(), "ui1").Keys
	if keys[0].ExpectExists == nil || !*keys[0].ExpectExists {
		t.Fatalf("after reopening: %+v", keys[0])
	}
	err = s.Update("alice", AddKey("ui1", Key{Pattern: "job:*", ExpectExists: &yes}))
	var ve *ValidationError
	if !errors.As(err, &ve) || !strings.Contains(ve.Fields["expect_exists"], "applies only to exact keys") {
		t.Fatalf("pattern with expect_exists: %v", err)
	}
}
