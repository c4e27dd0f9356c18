package settings

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// password_file of instances made here must be inside server.secrets_dir, as written and
// with symlinks resolved; without secrets_dir it is refused. The config file's instances are
// not restricted (config.Load reads theirs).
func TestPasswordFileConfined(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, &applier{}, nil)
	secrets := s.opts.SecretsDir
	outside := filepath.Join(t.TempDir(), "host-secret")
	for _, f := range []string{outside, filepath.Join(secrets, "cache")} {
		if err := os.WriteFile(f, []byte("pw\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(outside, filepath.Join(secrets, "link-out")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(secrets, "cache"), filepath.Join(secrets, "link-in")); err != nil {
		t.Fatal(err)
	}
	refused := func(pf, want string) {
		t.Helper()
		err := s.Update("alice", AddInstance(Instance{Name: "x", Addr: "127.0.0.1:1", PasswordFile: pf}))
		var ve *ValidationError
		if !errors.As(err, &ve) || !strings.Contains(ve.Fields["password_file"], want) {
			t.Fatalf("password_file %q: got %v, want a password_file error containing %q", pf, err, want)
		}
	}
	refused(outside, "must be a file inside server.secrets_dir ("+secrets+")")
	refused("/etc/shadow", "must be a file inside server.secrets_dir")
	refused(filepath.Join(secrets, "..", "settings.json"), "must be a file inside server.secrets_dir")
	refused("../settings.json", "must be a file inside server.secrets_dir")
	refused(secrets, "must be a file inside server.secrets_dir")
	refused(filepath.Join(secrets, "link-out"), "symbolic link to a file outside")
	refused(filepath.Join(secrets, "nope"), "cannot read")

	mustUpdate(t, s, AddInstance(Instance{Name: "a", Addr: "127.0.0.1:1", PasswordFile: filepath.Join(secrets, "cache")}))
	mustUpdate(t, s, AddInstance(Instance{Name: "b", Addr: "127.0.0.1:1", PasswordFile: "link-in"})) // relative: inside secrets_dir
	for _, r := range s.Effective()[len(fromConfig()):] {
		if r.Password != "pw" {
			t.Fatalf("instance %s: password %q from %q, want pw", r.Name, r.Password, r.PasswordFile)
		}
	}
	if got := find(s.Effective(), "b").PasswordFile; got != filepath.Join(secrets, "link-in") {
		t.Fatalf("stored password_file %q, want the cleaned absolute path", got)
	}
	// A file swapped for a link outside after it was accepted is not read.
	os.Remove(filepath.Join(secrets, "cache"))
	if err := os.Symlink(outside, filepath.Join(secrets, "cache")); err != nil {
		t.Fatal(err)
	}
	if got := find(s.Effective(), "a").Password; got != "" {
		t.Fatalf("password read through a link outside secrets_dir: %q", got)
	}
}

func TestPasswordFileWithoutSecretsDir(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("pw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// An instance saved by an earlier version with a password_file anywhere.
	mustUpdate(t, open(t, dir, nil, nil), AddInstance(Instance{Name: "old", Addr: "127.0.0.1:1"}))
	d, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	d.Instances[0].PasswordFile = pw
	if err := Save(dir, d); err != nil {
		t.Fatal(err)
	}

	var log bytes.Buffer
	s2, err := Open(Options{Dir: dir, FromConfig: fromConfig(), Logger: slog.New(slog.NewJSONHandler(&log, nil))}) // no SecretsDir
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "password_file of an instance made on /settings is not read") || !strings.Contains(log.String(), `"instance":"old"`) {
		t.Fatalf("no error logged for the old instance: %s", log.String())
	}
	if got := find(s2.Effective(), "old").Password; got != "" {
		t.Fatalf("password read from %s without secrets_dir: %q", pw, got)
	}
	err = s2.Update("alice", AddInstance(Instance{Name: "x", Addr: "127.0.0.1:1", PasswordFile: pw}))
	var ve *ValidationError
	if !errors.As(err, &ve) || !strings.Contains(ve.Fields["password_file"], "server.secrets_dir is not set") {
		t.Fatalf("got %v, want password_file refused", err)
	}
}
