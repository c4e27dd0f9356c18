package config

import (
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const examplePath = "../../config.example.toml"

// exampleLine returns the TOML of a line of config.example.toml: the line itself when active,
// the text after "#" when it is a commented-out example (a table header or `key = value`), and
// ok=false for blank lines and prose comments.
func exampleLine(line string) (toml string, example, ok bool) {
	trimmed := strings.TrimSpace(line)
	if trimmed == "" {
		return "", false, false
	}
	if !strings.HasPrefix(trimmed, "#") {
		return trimmed, false, true
	}
	rest := strings.TrimSpace(trimmed[1:])
	if regexp.MustCompile(`^(\[\[?[a-z_.]+\]\]?|[a-z_]+ = )`).MatchString(rest) {
		return rest, true, true
	}
	return "", false, false
}

func readExample(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestExampleLoadsToDefaults: the example file is loadable as-is and changes nothing.
func TestExampleLoadsToDefaults(t *testing.T) {
	got := mustLoad(t, LoadOptions{File: examplePath})
	if want := Default(); !reflect.DeepEqual(got, want) {
		t.Fatalf("config.example.toml does not yield the defaults:\n got %+v\nwant %+v", got, want)
	}
}

// TestExampleEntriesAreValid: with every commented-out example enabled, the file still loads.
func TestExampleEntriesAreValid(t *testing.T) {
	var lines []string
	for _, line := range strings.Split(readExample(t), "\n") {
		if toml, example, ok := exampleLine(line); ok && example {
			line = toml
		}
		lines = append(lines, line)
	}
	c := mustLoad(t, LoadOptions{File: writeConfig(t, strings.Join(lines, "\n"))})
	n := func(name string, got, want int) {
		t.Helper()
		if got != want {
			t.Fatalf("%s: got %d entries, want %d", name, got, want)
		}
	}
	n("auth.users", len(c.Auth.Users), 1)
	n("redis", len(c.Redis), 1)
	n("redis[0].keys", len(c.Redis[0].Keys), 2)
	n("alerts.rules", len(c.Alerts.Rules), 1)
	n("notify.webhook", len(c.Notify.Webhook), 1)
	n("notify.slack", len(c.Notify.Slack), 1)
	n("notify.email.to", len(c.Notify.Email.To), 1)
	n("notify.alertmanager", len(c.Notify.Alertmanager), 1)
}

// TestExampleDocumentsEveryKey: every key of Config appears in config.example.toml, in its
// section (active or as a commented-out example), and the file documents no other key.
func TestExampleDocumentsEveryKey(t *testing.T) {
	var want []string
	var walk func(prefix string, t reflect.Type)
	walk = func(prefix string, t reflect.Type) {
		for _, f := range structFields(t) {
			path := joinPath(prefix, f.name)
			ft := t.FieldByIndex(f.index).Type
			switch {
			case ft.Kind() == reflect.Struct && !isDuration(ft):
				walk(path, ft)
			case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
				walk(path, ft.Elem())
			default:
				want = append(want, path)
			}
		}
	}
	walk("", reflect.TypeFor[Config]())

	header := regexp.MustCompile(`^\[\[?([a-z_.]+)\]\]?`)
	key := regexp.MustCompile(`^([a-z_]+) = `)
	var got []string
	section := ""
	for _, line := range strings.Split(readExample(t), "\n") {
		toml, _, ok := exampleLine(line)
		if !ok {
			continue
		}
		if m := header.FindStringSubmatch(toml); m != nil {
			section = m[1]
		} else if m := key.FindStringSubmatch(toml); m != nil {
			if p := joinPath(section, m[1]); !slices.Contains(got, p) {
				got = append(got, p)
			}
		} else {
			t.Fatalf("cannot classify line %q", line)
		}
	}

	for _, p := range want {
		if !slices.Contains(got, p) {
			t.Errorf("config.example.toml does not document %s", p)
		}
	}
	for _, p := range got {
		if !slices.Contains(want, p) {
			t.Errorf("config.example.toml documents %s, which is not a key", p)
		}
	}
	// Sections appear in SPEC.md's order, which is the order of Config's fields.
	var order []string
	for _, p := range got {
		top, _, _ := strings.Cut(p, ".")
		if len(order) == 0 || order[len(order)-1] != top {
			order = append(order, top)
		}
	}
	var fields []string
	for _, f := range structFields(reflect.TypeFor[Config]()) {
		fields = append(fields, f.name)
	}
	if !slices.Equal(order, fields) {
		t.Errorf("sections in config.example.toml: %q; want %q", order, fields)
	}
}
