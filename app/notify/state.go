package notify

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"

	"github.com/redwatch/redwatch/app/alert"
	"github.com/redwatch/redwatch/app/atomicfile"
)

// StateFile is the delivery log's file name inside Options.StateDir.
const StateFile = "notify.json"

const stateVersion = 1

// stateFile is notify.json: per notifier name, the delivery log and the resolves still due.
type stateFile struct {
	Version int                    `json:"version"`
	Targets map[string]targetState `json:"targets"`
}

type targetState struct {
	Delivered map[string]delivery `json:"delivered"`
	Resolved  []alert.Alert       `json:"resolved,omitempty"`
}

func (d *Dispatcher) statePath() string { return filepath.Join(d.opts.StateDir, StateFile) }

// load restores the delivery log of every target from the state file, if any. Entries of
// notifiers no longer configured are dropped.
func (d *Dispatcher) load() error {
	if d.opts.StateDir == "" {
		return nil
	}
	b, err := os.ReadFile(d.statePath())
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("cannot read the notification state: %w", err)
	}
	var sf stateFile
	if err := json.Unmarshal(b, &sf); err != nil || sf.Version != stateVersion {
		d.log.Warn("ignoring an unreadable notification state file; notifications may be sent again",
			"path", d.statePath(), "version", sf.Version, "error", err)
		return nil
	}
	for _, t := range d.targets {
		ts, ok := sf.Targets[t.name]
		if !ok {
			continue
		}
		for fp, e := range ts.Delivered {
			t.delivered[fp] = e
		}
		for _, r := range ts.Resolved {
			t.resolved[r.Fingerprint] = r
		}
	}
	return nil
}

// save writes the state file if anything changed since the last save. Only one goroutine
// calls it at a time (Run's saver, then Run itself once the saver stopped).
func (d *Dispatcher) save() {
	if d.opts.StateDir == "" {
		return
	}
	d.mu.Lock()
	if !d.dirty {
		d.mu.Unlock()
		return
	}
	sf := stateFile{Version: stateVersion, Targets: make(map[string]targetState, len(d.targets))}
	for _, t := range d.targets {
		ts := targetState{Delivered: make(map[string]delivery, len(t.delivered))}
		for fp, e := range t.delivered {
			ts.Delivered[fp] = e
		}
		for _, r := range t.resolved {
			if math.IsNaN(r.Value) || math.IsInf(r.Value, 0) {
				r.Value = 0 // JSON has no NaN; the value is informational
			}
			ts.Resolved = append(ts.Resolved, r)
		}
		sortAlerts(ts.Resolved)
		sf.Targets[t.name] = ts
	}
	d.dirty = false
	d.mu.Unlock()

	b, err := json.Marshal(sf)
	if err == nil {
		err = atomicfile.Write(d.statePath(), b)
	}
	if err != nil {
		d.log.Warn("cannot save the notification state", "path", d.statePath(), "error", err)
		d.mu.Lock()
		d.dirty = true // try again at the next change
		d.mu.Unlock()
	}
}
