package ingest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
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
// and samples outside storage's window or of a series redwatch samples itself as InfluxDB
// answers points beyond its retention policy: the rest is stored and the answer is 400
// (/write) or 422 (/api/v2/write) "partial write: ...".
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

// decodeInflux reads a line-protocol body in two passes over the spooled body: the first
// parses and validates every line (a body whose samples fit in one chunk keeps them), the
// second parses again and writes in chunks. A line over a limit refuses the whole request.
func (i *Ingest) decodeInflux(c echo.Context, d dialect) *reject {
	var gz bool
	switch ce := strings.ToLower(strings.TrimSpace(c.Request().Header.Get(echo.HeaderContentEncoding))); ce {
	case "", "identity":
	case "gzip", "x-gzip":
		gz = true
	default:
		return rejectf(http.StatusUnsupportedMediaType, "unsupported Content-Encoding %q: send plain or gzip", ce)
	}
	p, err := wire.NewInfluxParser(c.QueryParam("precision"), i.now())
	if err != nil {
		return rejectf(http.StatusBadRequest, "%s", err)
	}
	body, r := i.spool(c)
	if r != nil {
		return r
	}
	defer putBuf(body) // lines are copied out of it
	v := newValidator(i.lim)
	defer v.release()
	var kept []tsdb.Sample // the samples of pass 1 while they fit in one chunk
	var keptLines []int    // their line numbers
	keep := true
	var samples []tsdb.Sample
	r = i.eachLine(body, gz, func(n int, line string) *reject {
		samples, err = p.Line(samples[:0], line)
		if err != nil {
			return rejectf(http.StatusBadRequest, "%s: line %d %s: %s", wire.ErrBadPayload, n, wire.QuoteLine(line), err)
		}
		where := func() string { return fmt.Sprintf("line %d %s", n, wire.QuoteLine(line)) }
		for k := range samples {
			if r := v.series(where, samples[k].Name, samples[k].Labels, 1); r != nil {
				return r
			}
		}
		if keep {
			kept = append(kept, samples...)
			for range samples {
				keptLines = append(keptLines, n)
			}
			if len(kept) > chunkSamples {
				keep, kept, keptLines = false, nil, nil
			}
		}
		return nil
	})
	if r != nil {
		return r
	}
	cw := i.newChunkWriter()
	var werr error
	offer := func(n int, s tsdb.Sample) error {
		where := func() string { return fmt.Sprintf("line %d", n) }
		if cw.skipSampled(where, s.Name, s.Labels, 1) {
			return nil
		}
		return cw.add(where, s)
	}
	if keep {
		for k := range kept {
			if werr = offer(keptLines[k], kept[k]); werr != nil {
				break
			}
		}
	} else {
		r = i.eachLine(body, gz, func(n int, line string) *reject {
			samples, _ = p.Line(samples[:0], line) // pass 1 parsed it
			for _, s := range samples {
				if werr = offer(n, s); werr != nil {
					return writeError(werr, cw.stored)
				}
			}
			return nil
		})
		if r != nil {
			return r
		}
	}
	return cw.finish(werr, d)
}

// eachLine calls fn for every line of a spooled body with its number (from 1), without the
// "\n", reading it as a stream. A line longer than Limits.MaxLineBytes (a trailing "\r" not
// counted) refuses the request.
func (i *Ingest) eachLine(body []byte, gz bool, fn func(n int, line string) *reject) *reject {
	src, err := i.stream(body, gz)
	if err != nil {
		return i.streamError(err, gz)
	}
	max := i.lim.MaxLineBytes
	br := bufio.NewReaderSize(src, max+2)
	for n := 1; ; n++ {
		b, err := br.ReadSlice('\n')
		if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
			return i.streamError(err, gz) // before fn: the line may be cut short
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			return refuse(http.StatusBadRequest, reasonLineTooLong, "%s: line %d %s is longer than %d bytes, the limit per line",
				wire.ErrBadPayload, n, wire.QuoteLine(string(b[:min(len(b), wire.MaxQuotedLine+1)])), max)
		}
		line := bytes.TrimSuffix(bytes.TrimSuffix(b, []byte{'\n'}), []byte{'\r'})
		if len(line) > max {
			return refuse(http.StatusBadRequest, reasonLineTooLong, "%s: line %d %s is %d bytes, over the limit of %d bytes per line",
				wire.ErrBadPayload, n, wire.QuoteLine(string(line[:min(len(line), wire.MaxQuotedLine+1)])), len(line), max)
		}
		if len(line) > 0 {
			if r := fn(n, string(line)); r != nil {
				return r
			}
		}
		if err == io.EOF {
			return nil
		}
	}
}
