package auth

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

func newCSRFApp(secure bool) *echo.Echo {
	e := echo.New()
	e.Use(CSRF(secure))
	token := func(c echo.Context) error { return c.String(http.StatusOK, CSRFToken(c)) }
	e.GET("/form", token)
	e.POST("/form", token)
	return e
}

type csrfReq struct {
	method      string
	cookie      string // _csrf cookie value
	header      string // X-CSRF-Token
	form        string // _csrf form field
	auth        string // Authorization
	secFetch    string // Sec-Fetch-Site
	contentType string
}

func (r csrfReq) do(e *echo.Echo) *httptest.ResponseRecorder {
	var body *strings.Reader
	if r.form != "" {
		body = strings.NewReader(url.Values{"_csrf": {r.form}, "x": {"1"}}.Encode())
	} else {
		body = strings.NewReader("")
	}
	req := httptest.NewRequest(r.method, "/form", body)
	if r.form != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if r.cookie != "" {
		req.AddCookie(&http.Cookie{Name: "_csrf", Value: r.cookie})
	}
	if r.header != "" {
		req.Header.Set("X-CSRF-Token", r.header)
	}
	if r.auth != "" {
		req.Header.Set("Authorization", r.auth)
	}
	if r.secFetch != "" {
		req.Header.Set("Sec-Fetch-Site", r.secFetch)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

func TestCSRFIssuesToken(t *testing.T) {
	for _, secure := range []bool{false, true} {
		rec := csrfReq{method: http.MethodGet}.do(newCSRFApp(secure))
		if rec.Code != http.StatusOK {
			t.Fatalf("GET = %d", rec.Code)
		}
		cks := rec.Result().Cookies()
		if len(cks) != 1 {
			t.Fatalf("cookies = %v", cks)
		}
		ck := cks[0]
		if ck.Name != "_csrf" || ck.Value == "" || ck.Value != rec.Body.String() || ck.Path != "/" ||
			!ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Secure != secure {
			t.Fatalf("secure=%v: cookie = %+v, token %q", secure, ck, rec.Body)
		}
	}
}

func TestCSRF(t *testing.T) {
	e := newCSRFApp(false)
	tok := csrfReq{method: http.MethodGet}.do(e).Body.String()
	tests := []struct {
		name string
		req  csrfReq
		want int
	}{
		{"POST without token", csrfReq{method: http.MethodPost, cookie: tok}, http.StatusForbidden},
		{"POST without cookie or token", csrfReq{method: http.MethodPost}, http.StatusForbidden},
		{"POST with wrong header token", csrfReq{method: http.MethodPost, cookie: tok, header: "wrong"}, http.StatusForbidden},
		{"POST with token but no cookie", csrfReq{method: http.MethodPost, header: tok}, http.StatusForbidden},
		{"POST with header token", csrfReq{method: http.MethodPost, cookie: tok, header: tok}, http.StatusOK},
		{"POST with form token", csrfReq{method: http.MethodPost, cookie: tok, form: tok}, http.StatusOK},
		{"POST with wrong form token", csrfReq{method: http.MethodPost, cookie: tok, form: "wrong"}, http.StatusForbidden},
		{"POST with Basic skips CSRF", csrfReq{method: http.MethodPost, auth: "Basic YWxpY2U6cHc="}, http.StatusOK},
		{"POST with Bearer skips CSRF", csrfReq{method: http.MethodPost, auth: "Bearer t0ken"}, http.StatusOK},
		{"same-origin POST needs no token", csrfReq{method: http.MethodPost, secFetch: "same-origin"}, http.StatusOK},
		{"cross-site POST blocked", csrfReq{method: http.MethodPost, secFetch: "cross-site"}, http.StatusForbidden},
		{"cross-site POST blocked even with token", csrfReq{method: http.MethodPost, secFetch: "cross-site", cookie: tok, header: tok}, http.StatusForbidden},
		{"same-site POST blocked even with token", csrfReq{method: http.MethodPost, secFetch: "same-site", cookie: tok, header: tok}, http.StatusForbidden},
		{"cross-site GET allowed", csrfReq{method: http.MethodGet, secFetch: "cross-site"}, http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if rec := tc.req.do(e); rec.Code != tc.want {
				t.Fatalf("= %d %q, want %d", rec.Code, rec.Body, tc.want)
			}
		})
	}
}

func TestCSRFTokenWithSecFetchSite(t *testing.T) {
	rec := csrfReq{method: http.MethodGet, secFetch: "same-origin"}.do(newCSRFApp(false))
	if rec.Code != http.StatusOK || rec.Body.String() != middleware.CSRFUsingSecFetchSite {
		t.Fatalf("= %d %q", rec.Code, rec.Body)
	}
	// The placeholder rendered into a form is accepted when the browser posts it back.
	rec = csrfReq{method: http.MethodPost, secFetch: "same-origin", form: middleware.CSRFUsingSecFetchSite}.do(newCSRFApp(false))
	if rec.Code != http.StatusOK {
		t.Fatalf("POST with placeholder = %d", rec.Code)
	}
	// Skipped requests have no token.
	rec = csrfReq{method: http.MethodGet, auth: "Bearer x"}.do(newCSRFApp(false))
	if rec.Body.String() != "" {
		t.Fatalf("token on skipped request: %q", rec.Body)
	}
}
