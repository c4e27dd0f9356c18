package web

import (
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/redwatch/redwatch/app/config"
	"github.com/redwatch/redwatch/views/components"
)

// The form fields the settings forms share. A value that does not parse is put into errs
// under its field, worded for the person who typed it (the change is then not tried).

// formFloat parses a finite number; ok is false (and errs[field] set) otherwise.
func formFloat(errs map[string]string, field, s string) (float64, bool) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		errs[field] = fmt.Sprintf("%q is not a number", components.Clip(s, 40))
		return 0, false
	}
	return v, true
}

// formBool reads a checkbox: absent means def; otherwise true when any value is "true", "on"
// or "1" (forms send a hidden "false" before the checkbox, so unchecked is false).
func formBool(c echo.Context, name string, def bool) bool {
	fp, err := c.FormParams()
	if err != nil {
		return def
	}
	vs, ok := fp[name]
	if !ok {
		return def
	}
	return slices.ContainsFunc(vs, func(v string) bool { return v == "true" || v == "on" || v == "1" })
}

// formInt parses a whole number; blank is 0.
func formInt(errs map[string]string, field, s string) int {
	if s == "" {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		errs[field] = fmt.Sprintf("%q is not a whole number", components.Clip(s, 40))
	}
	return n
}

// formDuration parses a duration such as 1m30s; blank is 0.
func formDuration(errs map[string]string, field, s string) config.Duration {
	if s == "" {
		return 0
	}
	d, err := config.ParseDuration(s)
	if err != nil {
		errs[field] = fmt.Sprintf("%q is not a duration (e.g. 10s, 1m30s, 1h)", components.Clip(s, 40))
	}
	return config.Duration(d)
}
