package ingest

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/redwatch/redwatch/tsdb"
	"github.com/redwatch/redwatch/tsdb/wire"
)

// InfluxWrite serves POST /write (InfluxDB 1.x) and POST /api/v2/write (InfluxDB 2.x): InfluxDB
// line protocol as Telegraf's influxdb and influxdb_v2 outputs send it, plain or
// "Content-Encoding: gzip". Each field becomes the series measurement_field and tags become
// labels. ?precision=ns|us|ms|s (n and u too) applies to timestamps; lines without one get the
// time of the request. db, rp, org and bucket are ignored. Answers as RemoteWrite; a 400 names
// the line.
func (i *Ingest) InfluxWrite(c echo.Context) error {
	return i.serve(c, "influx", i.decodeInflux)
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
