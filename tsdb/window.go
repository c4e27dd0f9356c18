package tsdb

import (
	"errors"
	"fmt"
	"time"
)

// DefaultMaxAhead is how far ahead of the DB clock a sample may be by default (Options.MaxAhead).
// Ten minutes absorbs clock drift and batching of pushers with a sane clock, and is short
// enough that a sample stamped ahead stops being the newest of its series within minutes;
// VictoriaMetrics' own bound (2 days) would let one sample stay "latest" for 2 days.
const DefaultMaxAhead = 10 * time.Minute

// ErrTimestampTooOld and ErrTimestampTooNew are wrapped by the *TimestampError that Write and
// CheckTimestamp return for a sample outside the accepted window; test with errors.Is.
var (
	ErrTimestampTooOld = errors.New("timestamp is older than the retention")
	ErrTimestampTooNew = errors.New("timestamp is too far in the future")
)

// TimestampError is a timestamp outside the window storage accepts: [now-Retention,
// now+MaxAhead] on the DB clock.
type TimestampError struct {
	Timestamp int64         // the refused timestamp, unix milliseconds
	Now       int64         // the DB clock when it was checked, unix milliseconds
	Bound     time.Duration // the retention (too old) or MaxAhead (too new)
	TooNew    bool          // true: ahead of now+MaxAhead; false: before now-Retention
}

func (e *TimestampError) Error() string {
	at := time.UnixMilli(e.Timestamp).UTC().Format(time.RFC3339Nano)
	if e.TooNew {
		return fmt.Sprintf("timestamp %s is more than %s ahead of now (%s)", at, e.Bound, time.UnixMilli(e.Now).UTC().Format(time.RFC3339))
	}
	return fmt.Sprintf("timestamp %s is older than the retention of %s", at, days(e.Bound))
}

// days writes whole days as "30d", other durations as Go does.
func days(d time.Duration) string {
	if d > 0 && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

func (e *TimestampError) Unwrap() error {
	if e.TooNew {
		return ErrTimestampTooNew
	}
	return ErrTimestampTooOld
}

// AcceptWindow is the range of timestamps Write stores at this instant, in unix milliseconds,
// both ends included: [now-Retention, now+MaxAhead] on the DB clock (Options.Now). Callers
// that must report refused samples (ingest) check against it, or use CheckTimestamp, instead
// of copying storage's limits.
func (db *DB) AcceptWindow() (oldest, newest int64) {
	return db.window(db.now().UnixMilli())
}

func (db *DB) window(nowMs int64) (oldest, newest int64) {
	return nowMs - db.opts.Retention.Milliseconds(), nowMs + db.opts.MaxAhead.Milliseconds()
}

// CheckTimestamp returns nil when Write would store a sample at ts (unix milliseconds) now,
// else a *TimestampError saying which bound it is beyond.
func (db *DB) CheckTimestamp(ts int64) error {
	return db.checkTimestamp(ts, db.now().UnixMilli())
}

func (db *DB) checkTimestamp(ts, nowMs int64) error {
	oldest, newest := db.window(nowMs)
	switch {
	case ts < oldest:
		return &TimestampError{Timestamp: ts, Now: nowMs, Bound: db.opts.Retention}
	case ts > newest:
		return &TimestampError{Timestamp: ts, Now: nowMs, Bound: db.opts.MaxAhead, TooNew: true}
	}
	return nil
}
