package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// CSRFFormField and CSRFHeader are where CSRF accepts the token: forms post it as the hidden
// field "_csrf", htmx and fetch send it as the "X-CSRF-Token" header.
const (
	CSRFFormField = "_csrf"
	CSRFHeader    = echo.HeaderXCSRFToken
)

const (
	// csrfCookie holds the pre-session secret of a browser that has no session cookie yet
	// (the login form).
	csrfCookie       = "_csrf"
	csrfCookieMaxAge = 24 * time.Hour
	csrfContextKey   = "auth.csrf"
	csrfSecretBytes  = 32
	maxCSRFSecretLen = 64 // base64url of 32 bytes is 43 characters
)

// CSRF returns the CSRF middleware for the whole echo instance. Apply it after Middleware: it
// reads how Middleware authenticated the request. Behaviour:
//
//   - The token is bound to the session: it is derived from the session cookie's id (a
//     SHA-256 under a fixed label, so neither can be computed from sessions.json or from the
//     other), so a token is worth nothing with another session and an attacker cannot choose
//     one. A browser without a session cookie (the login form) gets a random pre-session
//     secret in cookie "_csrf" (Path=/, HttpOnly, SameSite=Lax, Secure when secure(c), 24h,
//     renewed on every safe request) and the token is derived from that.
//   - Safe methods (GET, HEAD, OPTIONS, TRACE) pass, and expose the token through CSRFToken.
//   - Unsafe requests whose Sec-Fetch-Site (sent by modern browsers) is "same-site" or
//     "cross-site" get 403, token or not (a sibling subdomain can plant cookies); "same-origin"
//     and "none" pass without a token.
//   - Otherwise, a request that Middleware authenticated with HTTP Basic and that carries no
//     session cookie passes: it is curl or an API client, which has no cookie to ride on. Any
//     other Authorization header does not exempt a request: when a session cookie is what
//     authenticates it, it needs the token.
//   - Every other unsafe request must send the token in header X-CSRF-Token or form field
//     _csrf (the form lookup also sees the URL query); it is compared in constant time, and
//     a missing or wrong one gets 403.
//
// Denials are returned as *echo.HTTPError with status 403, for the app's error handler.
func CSRF(secure func(c echo.Context) bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			secret, session := csrfSecret(c)
			if isSafeMethod(req.Method) {
				if !session {
					if secret == "" {
						secret = newCSRFSecret()
					}
					setCSRFCookie(c, secret, secure(c))
				}
				c.Set(csrfContextKey, csrfTokenFor(secret))
				return next(c)
			}
			if secret != "" {
				c.Set(csrfContextKey, csrfTokenFor(secret))
			}
			switch req.Header.Get("Sec-Fetch-Site") {
			case "same-site", "cross-site":
				return echo.NewHTTPError(http.StatusForbidden, "cross-origin request blocked by CSRF protection")
			case "same-origin", "none":
				return next(c)
			}
			if via, _ := c.Get(contextKeyVia).(string); via == viaBasic && !session {
				return next(c)
			}
			got := req.Header.Get(CSRFHeader)
			if got == "" {
				got = c.FormValue(CSRFFormField)
			}
			if secret == "" || subtle.ConstantTimeCompare([]byte(got), []byte(csrfTokenFor(secret))) != 1 {
				return echo.NewHTTPError(http.StatusForbidden, "invalid or missing CSRF token")
			}
			return next(c)
		}
	}
}

// CSRFToken returns the token to render into forms (hidden field "_csrf") and htmx headers
// ("X-CSRF-Token"), or "" when CSRF did not run for this request or the request has no
// secret to derive one from (an unsafe request authenticated with HTTP Basic alone).
func CSRFToken(c echo.Context) string {
	s, _ := c.Get(csrfContextKey).(string)
	return s
}

// csrfSecret returns what the request's token derives from: the session cookie's value
// (session = true), else the pre-session cookie's, else "". Over-long values are ignored.
func csrfSecret(c echo.Context) (secret string, session bool) {
	if ck, err := c.Cookie(SessionCookie); err == nil && ck.Value != "" && len(ck.Value) <= maxSessionIDLength {
		return ck.Value, true
	}
	if ck, err := c.Cookie(csrfCookie); err == nil && ck.Value != "" && len(ck.Value) <= maxCSRFSecretLen {
		return ck.Value, false
	}
	return "", false
}

// csrfTokenFor derives the CSRF token of a session id or pre-session secret.
func csrfTokenFor(secret string) string {
	sum := sha256.Sum256([]byte("redwatch csrf token\x00" + secret))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func newCSRFSecret() string {
	b := make([]byte, csrfSecretBytes)
	rand.Read(b) // never fails (crypto/rand crashes the program instead)
	return base64.RawURLEncoding.EncodeToString(b)
}

func setCSRFCookie(c echo.Context, secret string, secure bool) {
	c.SetCookie(&http.Cookie{
		Name:     csrfCookie,
		Value:    secret,
		Path:     "/",
		MaxAge:   int(csrfCookieMaxAge.Seconds()),
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
		Secure:   secure,
	})
}

func isSafeMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	return false
}
