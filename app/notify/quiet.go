package notify

import (
	"fmt"
	"time"

	"github.com/redwatch/redwatch/app/config"
)

// quietHours is a daily window [from, to) in minutes after midnight in loc; from > to wraps
// midnight. The zero value (loc nil) is no window.
type quietHours struct {
	from, to int
	loc      *time.Location
}

// parseQuietHours reads a notifier's quiet_hours and timezone; an empty window is no window,
// an empty timezone is the machine's local time zone.
func parseQuietHours(c config.NotifierCommon) (quietHours, error) {
	if c.QuietHours == "" {
		return quietHours{}, nil
	}
	from, to, err := config.ParseQuietHours(c.QuietHours)
	if err != nil {
		return quietHours{}, fmt.Errorf("cannot parse quiet_hours: %w", err)
	}
	loc := time.Local
	if c.Timezone != "" {
		if loc, err = time.LoadLocation(c.Timezone); err != nil {
			return quietHours{}, fmt.Errorf("cannot load timezone %q: %w", c.Timezone, err)
		}
	}
	return quietHours{from: from, to: to, loc: loc}, nil
}

// active reports whether t falls inside the window and, if so, when the window ends.
func (q quietHours) active(t time.Time) (bool, time.Time) {
	if q.loc == nil {
		return false, time.Time{}
	}
	lt := t.In(q.loc)
	m := lt.Hour()*60 + lt.Minute()
	var in bool
	if q.from < q.to {
		in = m >= q.from && m < q.to
	} else {
		in = m >= q.from || m < q.to
	}
	if !in {
		return false, time.Time{}
	}
	y, mo, d := lt.Date()
	end := time.Date(y, mo, d, q.to/60, q.to%60, 0, 0, q.loc)
	if !end.After(t) {
		end = time.Date(y, mo, d+1, q.to/60, q.to%60, 0, 0, q.loc)
	}
	return true, end
}
