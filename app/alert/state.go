package alert

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/redwatch/redwatch/app/atomicfile"
)

// StateFile is the file under Options.StateDir that holds the active alerts and the history.
const StateFile = "state.json"

// stateVersion is the format version of StateFile and SilencesFile.
const stateVersion = 1

// HistorySize is how many transitions History keeps.
const HistorySize = 200

// stateFile is the content of StateFile.
type stateFile struct {
	Version int          `json:"version"`
	SavedAt time.Time    `json:"saved_at"`
	Alerts  []Alert      `json:"alerts"`  // pending and firing, by rule then fingerprint
	History []Transition `json:"history"` // newest first
}

func (e *Engine) path(name string) string { return filepath.Join(e.stateDir, name) }

// encodeState encodes the current state. Callers hold e.mu.
func (e *Engine) encodeState(now time.Time) ([]byte, error) {
	f := stateFile{Version: stateVersion, SavedAt: now, Alerts: []Alert{}, History: e.history}
	for _, rs := range e.rules {
		for _, a := range rs.alerts {
			f.Alerts = append(f.Alerts, *a)
		}
	}
	slices.SortFunc(f.Alerts, func(a, b Alert) int {
		return cmp.Or(strings.Compare(a.Rule, b.Rule), strings.Compare(a.Fingerprint, b.Fingerprint))
	})
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("cannot encode alert state: %w", err)
	}
	return b, nil
}

func (e *Engine) saveState(b []byte) error {
	if e.stateDir == "" {
		return nil
	}
	if err := atomicfile.Write(e.path(StateFile), b); err != nil {
		return fmt.Errorf("cannot save alert state: %w", err)
	}
	return nil
}

// loadState reads StateFile into the engine, whose rules are set. Alerts of known rules are
// restored as they were (firing alerts keep FiredAt, pending ones ActiveAt) and re-judged by
// the next evaluation; firing alerts of rules that no longer exist resolve: the first
// evaluation passes them to the Notifier once as resolved. A missing file is an empty state,
// an unreadable one an error, a corrupt one is moved aside (logged).
func (e *Engine) loadState(now time.Time) error {
	if e.stateDir == "" {
		return nil
	}
	b, err := os.ReadFile(e.path(StateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("cannot read alert state: %w", err)
	}
	var f stateFile
	if err := json.Unmarshal(b, &f); err != nil || f.Version > stateVersion {
		if err == nil {
			err = fmt.Errorf("version %d is newer than %d", f.Version, stateVersion)
		}
		return e.moveAside(StateFile, err)
	}
	e.history = f.History
	if len(e.history) > HistorySize {
		e.history = e.history[:HistorySize]
	}
	for i := range f.Alerts {
		a := f.Alerts[i]
		if (a.State != StatePending && a.State != StateFiring) || a.Labels == nil || a.Rule == "" {
			continue
		}
		fp := fingerprintOf(a.Labels)
		a.Fingerprint = fingerprintString(fp)
		if rs := e.byName[a.Rule]; rs != nil {
			rs.alerts[fp] = &a
			continue
		}
		if a.State == StateFiring {
			e.orphan(&a, now)
		}
		e.dirty = true
	}
	return nil
}

// moveAside renames a corrupt state file so that it is kept for inspection and replaced.
func (e *Engine) moveAside(name string, cause error) error {
	p := e.path(name)
	bad := p + ".bad"
	if err := os.Rename(p, bad); err != nil {
		return fmt.Errorf("cannot move corrupt %s aside: %w (it is corrupt: %v)", p, err, cause)
	}
	e.log.Error("state file is corrupt; moved aside, starting without it", "path", p, "moved_to", bad, "err", cause)
	return nil
}
