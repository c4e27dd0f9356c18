package web

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An admin cannot make redwatch send a host file to a Redis of their choosing as its password:
// password_file on /settings must be inside server.secrets_dir, and the form says so next to
// the field.
func TestSettingsPasswordFileConfined(t *testing.T) {
	t.Parallel()
	secrets := t.TempDir()
	if err := os.WriteFile(filepath.Join(secrets, "ui1"), []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	host := filepath.Join(t.TempDir(), "host-key")
	if err := os.WriteFile(host, []byte("private\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, secretsDir, file string
		want                   string // field error; "" = accepted
	}{
		{"no secrets_dir", "", filepath.Join(secrets, "ui1"), "server.secrets_dir is not set"},
		{"outside", secrets, host, "must be a file inside server.secrets_dir (" + secrets + ")"},
		{"dot-dot", secrets, filepath.Join(secrets, "..", filepath.Base(filepath.Dir(host)), "host-key"), "must be a file inside server.secrets_dir"},
		{"inside", secrets, filepath.Join(secrets, "ui1"), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newSettingsEnvWith(t, settingsEnvOptions{fromConfig: settingsConfig("127.0.0.1:6390"), secretsDir: tc.secretsDir})
			admin := e.login("admin", adminPass)
			form := settingsInstanceForm("ui1", "127.0.0.1:7000")
			form.Set("password_file", tc.file)
			res, body := e.postForm(t, admin, "/settings/instances", form)
			if tc.want == "" {
				if res.StatusCode != http.StatusSeeOther || e.apply.count() != 1 {
					t.Fatalf("inside secrets_dir: %d, applied %d times", res.StatusCode, e.apply.count())
				}
				if got := instanceNamed(e.apply.last(), "ui1").Password; got != "s3cret" {
					t.Fatalf("password from the file = %q", got)
				}
				return
			}
			if res.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("= %d, want 422", res.StatusCode)
			}
			f := one(t, parse(t, body), "add-instance-form")
			if got := text(oneWith(t, f, "field-error", "data-field", "password_file")); !strings.Contains(got, tc.want) {
				t.Fatalf("password_file error %q, want %q", got, tc.want)
			}
			if strings.Contains(body, "private") || e.apply.count() != 0 {
				t.Fatal("the host file was read into the page or applied")
			}
		})
	}
}
