package auth

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// CSRFFormField and CSRFHeader are where CSRF accepts the token: forms post it as the hidden
// field "_csrf", htmx and fetch send it as the "X-CSRF-Token" header.
const (
	CSRFFormField = "_csrf"
	CSRFHeader    = echo.HeaderXCSRFToken
	csrfCookie    = "_csrf"
)

// CSRF returns the CSRF middleware for the whole echo instance, built on echo's
// middleware.CSRFWithConfig (v4.16.0). Apply it after Middleware. Behaviour:
//
//   - Requests carrying any Authorization header are skipped: they come from curl or API
//     clients, and a browser cannot attach that header cross-site without a CORS preflight
//     (which redwatch never grants). Browsers never cache Basic credentials for us because
//     page loads are redirected to /login rather than challenged.
//   - When the browser sends Sec-Fetch-Site (modern browsers, HTTPS or localhost only): safe
//     methods (GET, HEAD, OPTIONS, TRACE) and unsafe requests marked "same-origin" or "none"
//     pass without a token; unsafe "same-site" and "cross-site" requests get 403. In that path
//     no _csrf cookie is set and CSRFToken returns echo's placeholder
//     middleware.CSRFUsingSecFetchSite, which is fine to render into forms.
//   - Otherwise (no Sec-Fetch-Site, e.g. plain HTTP on a LAN address): double-submit token.
//     Every passing request (re)sets cookie "_csrf" (Path=/, HttpOnly, SameSite=Lax,
//     Secure=secure, 24h) and exposes its value through CSRFToken. Unsafe methods must echo
//     it in header X-CSRF-Token or form field _csrf (the form lookup also sees the URL query);
//     a missing or wrong token gets 403.
//
// Denials are returned as *echo.HTTPError with status 403, for the app's error handler.
func CSRF(secure bool) echo.MiddlewareFunc {
	forbidden := func(msg string) error { return echo.NewHTTPError(http.StatusForbidden, msg) }
	return middleware.CSRFWithConfig(middleware.CSRFConfig{
		Skipper: func(c echo.Context) bool {
			return c.Request().Header.Get(echo.HeaderAuthorization) != ""
		},
		TokenLookup:    "header:" + CSRFHeader + ",form:" + CSRFFormField,
		ContextKey:     middleware.DefaultCSRFConfig.ContextKey,
		CookieName:     csrfCookie,
		CookiePath:     "/",
		CookieHTTPOnly: true,
		CookieSameSite: http.SameSiteLaxMode,
		CookieSecure:   secure,
		// Called only for unsafe requests whose Sec-Fetch-Site is "same-site" or
		// "cross-site". echo would let same-site ones fall back to the token, which a sibling
		// subdomain can defeat by planting its own _csrf cookie; refuse both.
		AllowSecFetchSiteFunc: func(echo.Context) (bool, error) {
			return false, forbidden("cross-origin request blocked by CSRF protection")
		},
		// echo answers a missing token with 400; a CSRF failure is a 403 whatever the cause.
		ErrorHandler: func(error, echo.Context) error {
			return forbidden("invalid or missing CSRF token")
		},
	})
}

// CSRFToken returns the token to render into forms (hidden field "_csrf") and htmx headers
// ("X-CSRF-Token"), or "" when CSRF did not run for this request (e.g. it was skipped).
func CSRFToken(c echo.Context) string {
	s, _ := c.Get(middleware.DefaultCSRFConfig.ContextKey).(string)
	return s
}
