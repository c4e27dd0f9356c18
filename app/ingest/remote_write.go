package ingest

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/redwatch/redwatch/tsdb"
	"github.com/redwatch/redwatch/tsdb/wire"
)

// RemoteWrite serves POST /api/v1/write: a Prometheus remote-write 1.0 request (a
// snappy-compressed protobuf WriteRequest), as sent by Prometheus, vmagent, Grafana Agent /
// Alloy and `redwatch agent`. Answers: 204 stored; 400 bad payload or a series over a Limit
// (nothing stored; the error names the series and the limit); 401 missing or wrong token;
// 403 ingest disabled; 413 body too large, compressed or decompressed; 415 remote write 2.0
// or an encoding other than snappy; 503 with Retry-After when no insert slot frees up within
// QueueWait or storage is read-only. Samples outside storage's window (older than the
// retention, more than tsdb.DefaultMaxAhead ahead) and series redwatch samples itself
// (Options.Sampled) are not stored: the rest is, and the answer is a 400 "partial write" that
// says how many samples were dropped and names the first.
func (i *Ingest) RemoteWrite(c echo.Context) error {
	return i.serve(c, prometheus, i.decodeRemoteWrite)
}

// decodeRemoteWrite decompresses the request (at most MaxBodyBytes), validates every series
// reading it as a stream, then writes in chunks what that pass kept when it fit in one chunk,
// or else reads the body again: beyond the compressed and decompressed bodies, memory holds
// one chunk of samples.
func (i *Ingest) decodeRemoteWrite(c echo.Context, d dialect) *reject {
	req := c.Request()
	if ct := req.Header.Get(echo.HeaderContentType); strings.Contains(ct, "io.prometheus.write.v2.Request") {
		return rejectf(http.StatusUnsupportedMediaType, "remote write 2.0 is not supported: send prometheus.WriteRequest (remote write 1.0)")
	}
	if ce := strings.ToLower(strings.TrimSpace(req.Header.Get(echo.HeaderContentEncoding))); ce != "" && ce != "snappy" {
		return rejectf(http.StatusUnsupportedMediaType, "unsupported Content-Encoding %q: remote write bodies are snappy-compressed", ce)
	}
	body, r := i.spool(c)
	if r != nil {
		return r
	}
	defer putBuf(body)
	raw, err := wire.DecompressRemoteWriteTo(getBuf(0), body, i.maxBody)
	defer putBuf(raw) // the samples written clone what they keep of it
	if errors.Is(err, wire.ErrTooLarge) {
		return refuse(http.StatusRequestEntityTooLarge, reasonBodyTooLarge, "%s", err)
	}
	if err != nil {
		return rejectf(http.StatusBadRequest, "%s", err)
	}
	v := newValidator(i.lim)
	defer v.release()
	kept := getKept() // pass 1's series while their samples fit in one chunk, as line protocol keeps them
	defer putKept(kept)
	keep := true
	err = wire.EachRemoteWriteSeries(raw, func(k int, s *wire.RemoteWriteSeries) error {
		where := func() string { return fmt.Sprintf("series %d (%s)", k, s.Name) }
		if s.Name == "" {
			return rejectf(http.StatusBadRequest, "%s: series %d: %s", wire.ErrBadPayload, k, tsdb.ValidateMetricName(""))
		}
		if r := v.series(where, s.Name, s.Labels, len(s.Samples)); r != nil {
			return r
		}
		for _, p := range s.Samples {
			if p.Timestamp <= 0 {
				return rejectf(http.StatusBadRequest, "%s: %s: timestamp %d is not positive unix milliseconds", wire.ErrBadPayload, where(), p.Timestamp)
			}
		}
		if keep = keep && len(kept.points)+len(s.Samples) <= chunkSamples; keep && len(s.Samples) > 0 {
			name, labels := cloneSeries(s.Name, s.Labels) // s aliases raw
			kept.series = append(kept.series, keptSeries{k: k, name: name, labels: labels, n: len(s.Samples)})
			kept.points = append(kept.points, s.Samples...)
		}
		return nil
	})
	if r, ok := errors.AsType[*reject](err); ok {
		return r
	}
	if err != nil {
		return rejectf(http.StatusBadRequest, "%s", err)
	}
	cw := i.newChunkWriter()
	offer := func(k int, name string, labels []tsdb.Label, points []tsdb.Point) error {
		where := func() string { return fmt.Sprintf("series %d", k) }
		if cw.skipSampled(where, name, labels, len(points)) {
			return nil
		}
		return cw.addPoints(where, name, labels, points)
	}
	if keep {
		at := 0
		for _, ks := range kept.series {
			if err = offer(ks.k, ks.name, ks.labels, kept.points[at:at+ks.n]); err != nil {
				break
			}
			at += ks.n
		}
		return cw.finish(err, d)
	}
	err = wire.EachRemoteWriteSeries(raw, func(k int, s *wire.RemoteWriteSeries) error {
		name, labels := cloneSeries(s.Name, s.Labels) // s aliases raw
		return offer(k, name, labels, s.Samples)
	})
	return cw.finish(err, d)
}

// keptRemoteWrite is what the validation pass of a request keeps for the write pass, so that
// a request of at most one chunk of samples (Prometheus sends 2,000 by default) is decoded
// once: its series with samples (at most chunkSamples of them), names and labels cloned out
// of the body, and their samples in order.
type keptRemoteWrite struct {
	series []keptSeries
	points []tsdb.Point
}

type keptSeries struct {
	k      int // its number in the request, for errors
	name   string
	labels []tsdb.Label
	n      int // its samples: the next n of points
}

var keptPool = sync.Pool{New: func() any { return new(keptRemoteWrite) }}

func getKept() *keptRemoteWrite { return keptPool.Get().(*keptRemoteWrite) }

// putKept returns kept to the pool without its strings (the samples written hold them).
func putKept(kept *keptRemoteWrite) {
	clear(kept.series)
	kept.series, kept.points = kept.series[:0], kept.points[:0]
	keptPool.Put(kept)
}

// cloneSeries copies name and labels, their strings in one allocation and the labels in another.
func cloneSeries(name string, labels []tsdb.Label) (string, []tsdb.Label) {
	n := len(name)
	for _, l := range labels {
		n += len(l.Name) + len(l.Value)
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteString(name)
	for _, l := range labels {
		b.WriteString(l.Name)
		b.WriteString(l.Value)
	}
	all := b.String()
	out := make([]tsdb.Label, len(labels))
	at := len(name)
	for k, l := range labels {
		out[k].Name = all[at : at+len(l.Name)]
		at += len(l.Name)
		out[k].Value = all[at : at+len(l.Value)]
		at += len(l.Value)
	}
	return all[:len(name)], out
}
