package ingest

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"
)

// readBody reads the request body, at most i.maxBody bytes (413 beyond). With gz the body is
// gunzipped and the decompressed size is bounded by i.maxBody as well.
func (i *Ingest) readBody(c echo.Context, gz bool) ([]byte, *reject) {
	req := c.Request()
	if req.ContentLength > i.maxBody {
		return nil, i.tooLarge()
	}
	var src io.Reader = http.MaxBytesReader(c.Response(), req.Body, i.maxBody)
	if gz {
		zr, err := gzip.NewReader(src)
		if err != nil {
			return nil, i.readError(err, "cannot decompress gzip body")
		}
		defer zr.Close()
		src = io.LimitReader(zr, i.maxBody+1)
	}
	var buf bytes.Buffer
	if !gz && req.ContentLength > 0 {
		buf.Grow(int(req.ContentLength))
	}
	if _, err := buf.ReadFrom(src); err != nil {
		msg := "cannot read body"
		if gz {
			msg = "cannot decompress gzip body"
		}
		return nil, i.readError(err, msg)
	}
	if int64(buf.Len()) > i.maxBody {
		return nil, rejectf(http.StatusRequestEntityTooLarge, "decompressed body exceeds %d bytes", i.maxBody)
	}
	return buf.Bytes(), nil
}

func (i *Ingest) tooLarge() *reject {
	return rejectf(http.StatusRequestEntityTooLarge, "body exceeds %d bytes", i.maxBody)
}

func (i *Ingest) readError(err error, msg string) *reject {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return i.tooLarge()
	}
	return rejectf(http.StatusBadRequest, "%s: %s", msg, err)
}
