package ingest

import (
	"net/http"
	"strings"

	"github.com/golang/snappy"
	"github.com/labstack/echo/v4"

	"github.com/redwatch/redwatch/tsdb"
	"github.com/redwatch/redwatch/tsdb/wire"
)

// RemoteWrite serves POST /api/v1/write: a Prometheus remote-write 1.0 request (a
// snappy-compressed protobuf WriteRequest), as sent by Prometheus, vmagent, Grafana Agent /
// Alloy and `redwatch agent`. Answers: 204 stored; 400 bad payload (nothing stored);
// 401 missing or wrong token; 403 ingest disabled; 413 body too large; 415 remote write 2.0
// or an encoding other than snappy. Samples older than the retention (or more than MaxAhead
// ahead) are not stored: the rest is, and the answer is a 400 that says how many were dropped.
func (i *Ingest) RemoteWrite(c echo.Context) error {
	return i.serve(c, prometheus, i.decodeRemoteWrite)
}

func (i *Ingest) decodeRemoteWrite(c echo.Context) ([]tsdb.Sample, *reject) {
	req := c.Request()
	if ct := req.Header.Get(echo.HeaderContentType); strings.Contains(ct, "io.prometheus.write.v2.Request") {
		return nil, rejectf(http.StatusUnsupportedMediaType, "remote write 2.0 is not supported: send prometheus.WriteRequest (remote write 1.0)")
	}
	if ce := strings.ToLower(strings.TrimSpace(req.Header.Get(echo.HeaderContentEncoding))); ce != "" && ce != "snappy" {
		return nil, rejectf(http.StatusUnsupportedMediaType, "unsupported Content-Encoding %q: remote write bodies are snappy-compressed", ce)
	}
	body, r := i.readBody(c, false)
	if r != nil {
		return nil, r
	}
	if n, err := snappy.DecodedLen(body); err == nil && int64(n) > i.maxBody {
		return nil, rejectf(http.StatusRequestEntityTooLarge, "decompressed body of %d bytes exceeds %d bytes", n, i.maxBody)
	}
	samples, err := wire.DecodeRemoteWrite(body)
	if err != nil {
		return nil, rejectf(http.StatusBadRequest, "%s", err)
	}
	return samples, nil
}
