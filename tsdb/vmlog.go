package tsdb

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
)

// vmLogWriter receives VictoriaMetrics' JSON log lines and re-emits them through slog with
// logger="vm". VM's chatty INFO lines (part merges, cache loads) become debug; those about the
// snapshots the durability flush makes every second are dropped, and its warnings about
// switching to and from read-only mode become debug: tsdb logs each change once itself.
type vmLogWriter struct{}

func (vmLogWriter) Write(p []byte) (int, error) {
	log := vmLog.Load()
	if log == nil {
		return len(p), nil
	}
	for _, line := range strings.Split(strings.TrimSpace(string(p)), "\n") {
		var rec struct {
			Level  string `json:"level"`
			Caller string `json:"caller"`
			Msg    string `json:"msg"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			log.Warn(line)
			continue
		}
		level := slog.LevelDebug
		switch {
		case rec.Level == "info" && strings.Contains(rec.Msg, "snapshot"):
			continue
		case strings.HasPrefix(rec.Msg, "switching the storage at "),
			strings.HasPrefix(rec.Msg, "resetting rollup result cache because"):
			// level stays debug: backfilled samples reset the query cache, as they should
		case rec.Level == "warn":
			level = slog.LevelWarn
		case rec.Level == "error" || rec.Level == "fatal" || rec.Level == "panic":
			level = slog.LevelError
		}
		log.Log(context.Background(), level, rec.Msg, "caller", rec.Caller)
	}
	return len(p), nil
}
