package ingest

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"sync"

	"github.com/labstack/echo/v4"
)

// spool reads the request body as received (still compressed when it is), at most i.maxBody
// bytes (413 beyond). Keeping the body is what lets a request be validated whole before any of
// it is written; it is read again as a stream (stream) to write it. The body is in a pooled
// buffer: call putBuf with it once nothing refers to its bytes any more.
func (i *Ingest) spool(c echo.Context) ([]byte, *reject) {
	req := c.Request()
	if req.ContentLength > i.maxBody {
		return nil, i.tooLarge()
	}
	b := getBuf(max(int(req.ContentLength), 0))
	buf := bytes.NewBuffer(b)
	if _, err := buf.ReadFrom(http.MaxBytesReader(c.Response(), req.Body, i.maxBody)); err != nil {
		putBuf(buf.Bytes())
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, i.tooLarge()
		}
		return nil, rejectf(http.StatusBadRequest, "cannot read body: %s", err)
	}
	return buf.Bytes(), nil
}

// bufPool holds the byte buffers of request bodies, compressed and decompressed, so that
// every request does not allocate (and the GC clear) its own megabytes. Buffers above
// maxPooledBuf are left to the GC.
var bufPool sync.Pool

const maxPooledBuf = 8 << 20

// getBuf returns an empty buffer with room for at least n bytes.
func getBuf(n int) []byte {
	if p, ok := bufPool.Get().(*[]byte); ok && cap(*p) >= n {
		return (*p)[:0]
	}
	return make([]byte, 0, max(n, 64<<10))
}

// putBuf gives b back to bufPool.
func putBuf(b []byte) {
	if cap(b) == 0 || cap(b) > maxPooledBuf {
		return
	}
	b = b[:0]
	bufPool.Put(&b)
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
