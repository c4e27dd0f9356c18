package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/redwatch/redwatch/app/buildinfo"
)

// maxErrorBody is how much of a non-2xx response body an error quotes.
const maxErrorBody = 200

// PostJSON POSTs body (JSON) to rawURL with header added (Content-Type and User-Agent are set
// unless header has them) and succeeds on a 2xx status. The request is bound to ctx (its
// deadline is the timeout). Errors name the host only, never the URL's path, query or user
// info (they often carry tokens), and quote the response status and the first 200 bytes of
// the body. client nil means a plain &http.Client{}.
func PostJSON(ctx context.Context, client *http.Client, rawURL string, header http.Header, body []byte) error {
	if client == nil {
		client = &http.Client{}
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return errors.New("cannot parse the notifier URL") // the URL itself may hold a token
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("cannot build a request to %s: %w", u.Host, redactURLError(err))
	}
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", "redwatch/"+buildinfo.Version)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("cannot POST to %s: %w", u.Host, redactURLError(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // allow connection reuse
		return nil
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	return fmt.Errorf("POST to %s: unexpected status %s: %q", u.Host, resp.Status, truncateUTF8(b))
}

// redactURLError strips the URL that *url.Error puts in its message.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// truncateUTF8 drops a rune cut in half at the end of b, and surrounding space.
func truncateUTF8(b []byte) string {
	for i := 0; i < utf8.UTFMax-1 && len(b) > 0 && !utf8.Valid(b); i++ {
		b = b[:len(b)-1]
	}
	return strings.TrimSpace(string(b))
}
