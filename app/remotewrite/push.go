// Package remotewrite sends samples elsewhere with the Prometheus remote-write protocol
// (version 0.1.0: snappy-compressed protobuf over HTTP POST).
//
// Push sends one request and says whether a failure is worth retrying; Backoff spaces the
// retries. Forwarder builds on both: a bounded queue that never blocks its writers and a loop
// that batches, posts and retries. redwatch uses a Forwarder for [remote_write] url, and the
// agent (app/agent) uses one to push its host's samples to a hub.
package remotewrite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/redwatch/redwatch/tsdb"
	"github.com/redwatch/redwatch/tsdb/wire"
)

// The protocol's request headers, set by Push on every request.
const (
	ContentEncoding = "snappy"
	ContentType     = "application/x-protobuf"
	ProtocolVersion = "0.1.0" // X-Prometheus-Remote-Write-Version
)

// DefaultTimeout bounds one request of a Forwarder whose Options.Client is nil.
const DefaultTimeout = 10 * time.Second

// errorBodyBytes is how much of a failed response's body an Error quotes.
const errorBodyBytes = 256

// Error is the error Push returns when samples were not delivered.
type Error struct {
	// URL is the endpoint, without userinfo.
	URL string
	// StatusCode is the HTTP status of the answer; 0 when no answer arrived (network error,
	// timeout, cancelled context).
	StatusCode int
	// Retryable reports whether sending the same samples again may succeed: true for network
	// errors, 429 and 5xx; false for other answers (a bad token or a bad payload will not fix
	// itself).
	Retryable bool
	// RetryAfter is the delay a 429 or 503 answer asked for with Retry-After (in seconds);
	// 0 when it asked for none.
	RetryAfter time.Duration
	// Body is the start of the answer's body, trimmed: the receiver's reason.
	Body string
	// Err is the transport error when StatusCode is 0.
	Err error
}

func (e *Error) Error() string {
	if e.StatusCode == 0 {
		return fmt.Sprintf("cannot send samples to %s: %s", e.URL, e.Err)
	}
	msg := fmt.Sprintf("cannot send samples to %s: HTTP %d", e.URL, e.StatusCode)
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// IsRetryable reports whether err is an *Error (possibly wrapped) that may succeed when retried.
func IsRetryable(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Retryable
}

// Push sends samples to endpoint as one remote-write request: POST, the body encoded by
// wire.EncodeRemoteWrite, and the headers Content-Encoding, Content-Type and
// X-Prometheus-Remote-Write-Version, plus header (e.g. Authorization, User-Agent; nil is fine).
// When endpoint has userinfo (https://user:pass@host/...) and header has no Authorization, the
// userinfo is sent as HTTP Basic authentication.
//
// It returns nil when the receiver answered 2xx, otherwise an *Error; see Error.Retryable.
// client bounds the request's duration with its Timeout and ctx. Empty samples send nothing.
// Push is safe for concurrent use.
func Push(ctx context.Context, client *http.Client, endpoint string, header http.Header, samples []tsdb.Sample) error {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return &Error{URL: redactedURL(endpoint), Err: fmt.Errorf("not an absolute http(s) URL")}
	}
	user := u.User
	u.User = nil
	shown := u.String()
	if len(samples) == 0 {
		return nil
	}

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(wire.EncodeRemoteWrite(samples)))
	if err != nil {
		return &Error{URL: shown, Err: err}
	}
	for k, vs := range header {
		req.Header[http.CanonicalHeaderKey(k)] = vs
	}
	req.Header.Set("Content-Encoding", ContentEncoding)
	req.Header.Set("Content-Type", ContentType)
	req.Header.Set("X-Prometheus-Remote-Write-Version", ProtocolVersion)
	if user != nil && req.Header.Get("Authorization") == "" {
		pass, _ := user.Password()
		req.SetBasicAuth(user.Username(), pass)
	}

	resp, err := client.Do(req)
	if err != nil {
		// The *url.Error repeats method and URL; keep only the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return &Error{URL: shown, Retryable: true, Err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		// Drain a little so that the connection can be reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, errorBodyBytes))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	e := &Error{
		URL:        shown,
		StatusCode: resp.StatusCode,
		Retryable:  resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500,
		Body:       strings.Join(strings.Fields(strings.ToValidUTF8(string(body), "")), " "),
	}
	if e.Retryable {
		if secs, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); err == nil && secs > 0 {
			e.RetryAfter = time.Duration(secs) * time.Second
		}
	}
	return e
}

// redactedURL is s without the password of its userinfo, for logs and errors.
func redactedURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}
