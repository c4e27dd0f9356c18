package ingest

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"
)

// spool reads the request body as received (still compressed when it is), at most i.maxBody
// bytes (413 beyond). Keeping the body is what lets a request be validated whole before any of
// it is written; it is read again as a stream (stream) to write it.
func (i *Ingest) spool(c echo.Context) ([]byte, *reject) {
	req := c.Request()
	if req.ContentLength > i.maxBody {
		return nil, i.tooLarge()
	}
	var buf bytes.Buffer
	if req.ContentLength > 0 {
		buf.Grow(int(req.ContentLength))
	}
	if _, err := buf.ReadFrom(http.MaxBytesReader(c.Response(), req.Body, i.maxBody)); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, i.tooLarge()
		}
		return nil, rejectf(http.StatusBadRequest, "cannot read body: %s", err)
	}
	return buf.Bytes(), nil
}

// errDecompressedTooLarge ends a stream whose decompressed size exceeds the body limit.
var errDecompressedTooLarge = errors.New("decompressed body too large")

// stream returns a reader of a spooled body, gunzipped with gz; a gunzipped stream fails with
// errDecompressedTooLarge past i.maxBody bytes.
func (i *Ingest) stream(body []byte, gz bool) (io.Reader, error) {
	if !gz {
		return bytes.NewReader(body), nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	return &maxReader{r: zr, left: i.maxBody}, nil
}

// streamError is the answer for an error reading a stream from stream.
func (i *Ingest) streamError(err error, gz bool) *reject {
	if errors.Is(err, errDecompressedTooLarge) {
		return refuse(http.StatusRequestEntityTooLarge, reasonBodyTooLarge, "decompressed body exceeds %d bytes", i.maxBody)
	}
	if gz {
		return rejectf(http.StatusBadRequest, "cannot decompress gzip body: %s", err)
	}
	return rejectf(http.StatusBadRequest, "cannot read body: %s", err)
}

// maxReader reads at most left bytes of r, then fails with errDecompressedTooLarge.
type maxReader struct {
	r    io.Reader
	left int64
}

func (m *maxReader) Read(p []byte) (int, error) {
	if int64(len(p)) > m.left+1 {
		p = p[:m.left+1]
	}
	n, err := m.r.Read(p)
	m.left -= int64(n)
	if m.left < 0 {
		return n - 1, errDecompressedTooLarge
	}
	return n, err
}

func (i *Ingest) tooLarge() *reject {
	return refuse(http.StatusRequestEntityTooLarge, reasonBodyTooLarge, "body exceeds %d bytes", i.maxBody)
}
