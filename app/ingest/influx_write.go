package ingest

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/redwatch/redwatch/app/buildinfo"
	"github.com/redwatch/redwatch/tsdb"
	"github.com/redwatch/redwatch/tsdb/wire"
)

// InfluxWrite serves POST /write (InfluxDB 1.x) and POST /api/v2/write (InfluxDB 2.x): InfluxDB
// line protocol as Telegraf's influxdb and influxdb_v2 outputs send it, plain or
// "Content-Encoding: gzip". Each field becomes the series measurement_field and tags become
// labels. ?precision=ns|us|ms|s (n and u too) applies to timestamps; lines without one get the
// time of the request. db, rp, org and bucket are ignored. String fields are skipped; a value
// that is not a number, integer or boolean is a 400 naming the line. Answers as RemoteWrite,
// with errors in InfluxDB's JSON shape ({"code": "invalid", "message": "...", "error": "..."}),
// and samples outside storage's window as InfluxDB answers points beyond its retention policy:
// the rest is stored and the answer is 400 (/write) or 422 (/api/v2/write) "partial write: ...".
func (i *Ingest) InfluxWrite(c echo.Context) error {
	d := influx1
	if strings.HasPrefix(c.Request().URL.Path, "/api/v2/") {
		d = influx2
	}
	return i.serve(c, d, i.decodeInflux)
}

// Ping serves GET and HEAD /ping as InfluxDB does, for Telegraf's and InfluxDB clients'
// checks: 204 with X-Influxdb-Version, no token needed; ?verbose=true answers 200 with
// {"version": ...}.
func (i *Ingest) Ping(c echo.Context) error {
	v := "redwatch-" + buildinfo.Version
	h := c.Response().Header()
	h.Set("X-Influxdb-Build", "redwatch")
	h.Set("X-Influxdb-Version", v)
	h.Set("Cache-Control", "no-store")
	if verbose, _ := strconv.ParseBool(c.QueryParam("verbose")); verbose && c.Request().Method == http.MethodGet {
		return c.JSON(http.StatusOK, map[string]string{"version": v})
	}
	return c.NoContent(http.StatusNoContent)
}

func (i *Ingest) decodeInflux(c echo.Context) ([]tsdb.Sample, *reject) {
	var gz bool
	switch ce := strings.ToLower(strings.TrimSpace(c.Request().Header.Get(echo.HeaderContentEncoding))); ce {
	case "", "identity":
	case "gzip", "x-gzip":
		gz = true
	default:
		return nil, rejectf(http.StatusUnsupportedMediaType, "unsupported Content-Encoding %q: send plain or gzip", ce)
	}
	body, r := i.readBody(c, gz)
	if r != nil {
		return nil, r
	}
	samples, err := wire.ParseInflux(body, c.QueryParam("precision"), i.now())
	if err != nil {
		return nil, rejectf(http.StatusBadRequest, "%s", err)
	}
	return samples, nil
}
