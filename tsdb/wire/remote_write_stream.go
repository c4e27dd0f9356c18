package wire

import (
	"encoding/binary"
	"fmt"
	"math"
	"unsafe"

	"github.com/VictoriaMetrics/VictoriaMetrics/lib/prompb"
	"github.com/VictoriaMetrics/easyproto"
	"github.com/golang/snappy"

	"github.com/redwatch/redwatch/tsdb"
)

// DecompressRemoteWrite returns the decompressed protobuf of a snappy-compressed remote-write
// body, refusing (ErrTooLarge) one that decompresses to more than maxDecoded bytes before
// decompressing it. Other problems wrap ErrBadPayload.
func DecompressRemoteWrite(body []byte, maxDecoded int64) ([]byte, error) {
	return DecompressRemoteWriteTo(nil, body, maxDecoded)
}

// DecompressRemoteWriteTo is DecompressRemoteWrite decompressing into dst's array when it is
// large enough (a pooled buffer); the result may be dst's array or a new one.
func DecompressRemoteWriteTo(dst, body []byte, maxDecoded int64) ([]byte, error) {
	n, err := snappy.DecodedLen(body)
	if err != nil {
		return nil, fmt.Errorf("%w: not snappy-compressed: %s", ErrBadPayload, err)
	}
	if int64(n) > maxDecoded {
		return nil, fmt.Errorf("%w: decompressed body of %d bytes exceeds %d bytes", ErrTooLarge, n, maxDecoded)
	}
	raw, err := snappy.Decode(dst[:cap(dst)], body)
	if err != nil {
		return nil, fmt.Errorf("%w: cannot decompress: %s", ErrBadPayload, err)
	}
	return raw, nil
}

// EachRemoteWriteSeries calls fn for every time series of a decompressed remote-write
// request (a prometheus.WriteRequest), in order, i counting from 0, and stops at fn's first
// error, which it returns. It reads raw as a stream: s is reused between calls and its
// strings alias raw, so memory does not grow with the number of series (VictoriaMetrics'
// unmarshaler keeps every label of the request in one pool, several times the decoded size
// at a million series). A series carrying native histograms is expanded by VictoriaMetrics'
// unmarshaler into its bucket series, each passed to fn. Decoding errors wrap ErrBadPayload.
func EachRemoteWriteSeries(raw []byte, fn func(i int, s *RemoteWriteSeries) error) error {
	var s RemoteWriteSeries
	var fc easyproto.FieldContext
	var err error
	i := 0
	for src := raw; len(src) > 0; {
		if src, err = fc.NextField(src); err != nil {
			return fmt.Errorf("%w: cannot unmarshal protobuf: cannot read the next field: %s", ErrBadPayload, err)
		}
		if fc.FieldNum != 1 { // 3: metadata, ignored
			continue
		}
		data, ok := fc.MessageData()
		if !ok {
			return fmt.Errorf("%w: cannot unmarshal protobuf: cannot read timeseries %d", ErrBadPayload, i)
		}
		histograms, err := s.unmarshal(data)
		if err != nil {
			return fmt.Errorf("%w: cannot unmarshal protobuf: timeseries %d: %s", ErrBadPayload, i, err)
		}
		if histograms {
			if i, err = eachHistogramSeries(data, i, fn); err != nil {
				return err
			}
			continue
		}
		if err := fn(i, &s); err != nil {
			return err
		}
		i++
	}
	return nil
}

// unmarshal reads one TimeSeries message into s: labels (1) and samples (2). It reports
// whether the series has native histograms (4) instead.
func (s *RemoteWriteSeries) unmarshal(src []byte) (histograms bool, err error) {
	s.Name, s.Labels, s.Samples = "", s.Labels[:0], s.Samples[:0]
	var fc, inner easyproto.FieldContext
	for len(src) > 0 {
		if src, err = fc.NextField(src); err != nil {
			return false, fmt.Errorf("cannot read the next field: %w", err)
		}
		data, ok := fc.MessageData()
		if fc.FieldNum == 4 {
			histograms = true
			continue
		}
		if fc.FieldNum != 1 && fc.FieldNum != 2 {
			continue
		}
		if !ok {
			return false, fmt.Errorf("cannot read field %d", fc.FieldNum)
		}
		if fc.FieldNum == 2 {
			if p, ok := plainSample(data); ok {
				s.Samples = append(s.Samples, p)
				continue
			}
		} else if l, ok := plainLabel(data); ok {
			switch {
			case l.Name == "__name__":
				s.Name = l.Value
			case l.Value != "":
				s.Labels = append(s.Labels, l)
			}
			continue
		}
		var l tsdb.Label
		var p tsdb.Point
		for len(data) > 0 {
			if data, err = inner.NextField(data); err != nil {
				return false, fmt.Errorf("cannot read the next field: %w", err)
			}
			switch {
			case fc.FieldNum == 1 && inner.FieldNum == 1:
				l.Name, ok = inner.String()
			case fc.FieldNum == 1 && inner.FieldNum == 2:
				l.Value, ok = inner.String()
			case fc.FieldNum == 2 && inner.FieldNum == 1:
				p.Value, ok = inner.Double()
			case fc.FieldNum == 2 && inner.FieldNum == 2:
				p.Timestamp, ok = inner.Int64()
			}
			if !ok {
				return false, fmt.Errorf("cannot read a field of a label or sample")
			}
		}
		switch {
		case fc.FieldNum == 2:
			s.Samples = append(s.Samples, p)
		case l.Name == "__name__":
			s.Name = l.Value
		case l.Value != "":
			s.Labels = append(s.Labels, l)
		}
	}
	return histograms, nil
}

// plainSample reads a Sample message as Prometheus writes it, value (field 1, fixed64) then
// timestamp (field 2, varint), either left out when zero, without easyproto's general field
// walk: samples are most of a request. It reports false for anything else (another order,
// a repeated or unknown field), which unmarshal then reads the general way.
func plainSample(b []byte) (tsdb.Point, bool) {
	var p tsdb.Point
	if len(b) >= 9 && b[0] == 1<<3|1 {
		p.Value = math.Float64frombits(binary.LittleEndian.Uint64(b[1:9]))
		b = b[9:]
	}
	if len(b) >= 2 && b[0] == 2<<3 {
		ts, n := binary.Uvarint(b[1:])
		if n <= 0 {
			return p, false
		}
		p.Timestamp = int64(ts)
		b = b[1+n:]
	}
	return p, len(b) == 0
}

// plainLabel reads a Label message as Prometheus writes it, name (field 1) then value (field
// 2), either left out when empty, as plainSample does samples; its strings alias b.
func plainLabel(b []byte) (tsdb.Label, bool) {
	var l tsdb.Label
	var ok bool
	if len(b) > 0 && b[0] == 1<<3|2 {
		if l.Name, b, ok = plainString(b[1:]); !ok {
			return l, false
		}
	}
	if len(b) > 0 && b[0] == 2<<3|2 {
		if l.Value, b, ok = plainString(b[1:]); !ok {
			return l, false
		}
	}
	return l, len(b) == 0
}

// plainString reads a length-prefixed string at the start of b, aliasing b, and returns the
// rest of b.
func plainString(b []byte) (string, []byte, bool) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return "", nil, false
	}
	b = b[k:]
	return unsafe.String(unsafe.SliceData(b), int(n)), b[n:], true
}

// eachHistogramSeries expands one TimeSeries message with native histograms with
// VictoriaMetrics' unmarshaler (as a request of that one series) and calls fn for each
// resulting series, numbered from i; it returns the next number.
func eachHistogramSeries(data []byte, i int, fn func(i int, s *RemoteWriteSeries) error) (int, error) {
	req := appendMessageField(nil, 1, data)
	wru := prompb.GetWriteRequestUnmarshaler()
	defer prompb.PutWriteRequestUnmarshaler(wru)
	wr, err := wru.UnmarshalProtobuf(req)
	if err != nil {
		return i, fmt.Errorf("%w: cannot unmarshal protobuf: timeseries %d: %s", ErrBadPayload, i, err)
	}
	var s RemoteWriteSeries
	for k := range wr.Timeseries {
		ts := &wr.Timeseries[k]
		s.Name, s.Labels, s.Samples = "", s.Labels[:0], s.Samples[:0]
		for _, l := range ts.Labels {
			switch {
			case l.Name == "__name__":
				s.Name = l.Value
			case l.Value != "":
				s.Labels = append(s.Labels, tsdb.Label{Name: l.Name, Value: l.Value})
			}
		}
		for _, p := range ts.Samples {
			s.Samples = append(s.Samples, tsdb.Point{Timestamp: p.Timestamp, Value: p.Value})
		}
		if err := fn(i, &s); err != nil {
			return i, err
		}
		i++
	}
	return i, nil
}

// appendMessageField appends field num with wire type 2 (length-delimited) holding data.
func appendMessageField(dst []byte, num int, data []byte) []byte {
	dst = appendVarint(dst, uint64(num)<<3|2)
	dst = appendVarint(dst, uint64(len(data)))
	return append(dst, data...)
}

func appendVarint(dst []byte, v uint64) []byte {
	for v >= 0x80 {
		dst = append(dst, byte(v)|0x80)
		v >>= 7
	}
	return append(dst, byte(v))
}
