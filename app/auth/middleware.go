package auth

import (
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// Echo context keys under which Middleware stores the User and how it was authenticated
// (viaBasic or viaSession).
const (
	contextKeyUser = "auth.user"
	contextKeyVia  = "auth.via"
	viaBasic       = "basic"
	viaSession     = "session"
)

// LoginPath is where browsers are sent to log in.
const LoginPath = "/login"

// MiddlewareConfig configures Middleware.
type MiddlewareConfig struct {
	Users    *Users    // required
	Sessions *Sessions // required
	// Limiter, if set, also limits failed HTTP Basic logins per client and user (429 once
	// exceeded).
	Limiter *Limiter
}

// Middleware returns the middleware that enforces login. Apply it to every route that needs
// one, and to the answer for unknown routes (echo's RouteNotFound), so that a login is asked
// for before a 404; routes without it (health, assets, the login form, the write endpoints
// with their own token) are public. The web package does this with its route groups.
//
// It identifies the user, in this order:
//   - an "Authorization: Basic" header: the credentials must be right, else 401 JSON
//     {"error":"invalid credentials"} (429 with Retry-After when cfg.Limiter says this client
//     failed too often, for this user or overall); a valid session cookie does not rescue
//     wrong Basic credentials. Right credentials are verified with bcrypt once and then
//     remembered for VerifyCacheTTL (Users.AuthenticateBasic), so clients that send them on
//     every request stay cheap; remembered ones pass even while the limiter refuses this
//     address for guessing other names (Users.VerifiedBefore), but not once it is refused
//     for guessing this user's password (Limiter.Blocked);
//   - the SessionCookie, if it names an unexpired session of a user that still exists with
//     the password hash the session was created with (Sessions.Lookup); the role is the
//     user's current one.
//
// The user (without password hash) is stored for UserFrom and next is called. Without a
// user, the answer depends on who asks:
//   - a browser page load (GET or HEAD, Accept contains text/html, no HX-Request header):
//     303 to /login?next=<original path and query>;
//   - an htmx request (HX-Request: true): 401 with "HX-Redirect: /login";
//   - anything else: 401, `WWW-Authenticate: Basic realm="redwatch"` and JSON
//     {"error":"authentication required"}.
//
// Other Authorization schemes (Bearer) are ignored here: routes that take bearer tokens must
// not be behind Middleware, and check the token themselves.
func Middleware(cfg MiddlewareConfig) echo.MiddlewareFunc {
	if cfg.Users == nil || cfg.Sessions == nil {
		panic("BUG: auth.Middleware needs Users and Sessions")
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			if h := req.Header.Get(echo.HeaderAuthorization); len(h) >= 6 && strings.EqualFold(h[:6], "basic ") {
				u, ok, err := basicUser(c, cfg)
				if !ok {
					return err
				}
				c.Set(contextKeyUser, User{Name: u.Name, Role: u.Role})
				c.Set(contextKeyVia, viaBasic)
				return next(c)
			}

			if ck, err := c.Cookie(SessionCookie); err == nil {
				if u, ok := cfg.Sessions.Lookup(ck.Value, cfg.Users); ok {
					c.Set(contextKeyUser, u)
					c.Set(contextKeyVia, viaSession)
					return next(c)
				}
			}

			switch {
			case req.Header.Get("HX-Request") != "":
				c.Response().Header().Set("HX-Redirect", LoginPath)
				return c.JSON(http.StatusUnauthorized, errorBody("authentication required"))
			case (req.Method == http.MethodGet || req.Method == http.MethodHead) &&
				strings.Contains(req.Header.Get(echo.HeaderAccept), echo.MIMETextHTML):
				return c.Redirect(http.StatusSeeOther, loginURL(req.URL.RequestURI()))
			default:
				c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Basic realm="redwatch"`)
				return c.JSON(http.StatusUnauthorized, errorBody("authentication required"))
			}
		}
	}
}

// basicUser checks the request's HTTP Basic credentials, through cfg.Limiter when set. When
// they do not pass it has written the refusal (401, or 429 with Retry-After) and returns
// ok = false with the error of writing it.
func basicUser(c echo.Context, cfg MiddlewareConfig) (u User, ok bool, err error) {
	name, password, ok := c.Request().BasicAuth()
	ip := c.RealIP()
	// Remembered credentials skip the limiter's per-IP bound, never its bound for this user
	// from this client: else a refused guesser could tell a right guess (200) from a wrong one
	// (429) without limit while the real client keeps the cache warm.
	if ok && (cfg.Limiter == nil || cfg.Limiter.Blocked(name, ip) == 0) {
		if u, ok := cfg.Users.VerifiedBefore(name, password); ok {
			return u, true, nil
		}
	}
	deny := func() (User, bool, error) {
		c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Basic realm="redwatch"`)
		return User{}, false, c.JSON(http.StatusUnauthorized, errorBody("invalid credentials"))
	}
	if !ok {
		return deny()
	}
	if cfg.Limiter != nil {
		if wait := cfg.Limiter.Attempt(name, ip); wait > 0 {
			if _, known := cfg.Users.Get(name); known {
				cfg.Limiter.CountRefused(name, ip) // so that Blocked closes the cache to it
			}
			SetRetryAfter(c, wait)
			return User{}, false, c.JSON(http.StatusTooManyRequests, errorBody("too many failed logins; try again later"))
		}
	}
	if u, ok = cfg.Users.AuthenticateBasic(name, password); !ok {
		return deny()
	}
	if cfg.Limiter != nil {
		cfg.Limiter.Success(name, ip)
	}
	return u, true, nil
}

// SetRetryAfter sets the Retry-After header to wait, in whole seconds rounded up.
func SetRetryAfter(c echo.Context, wait time.Duration) {
	c.Response().Header().Set(echo.HeaderRetryAfter, strconv.Itoa(int(math.Ceil(wait.Seconds()))))
}

func loginURL(next string) string {
	next = SafeNext(next)
	if next == "/" {
		return LoginPath
	}
	return LoginPath + "?next=" + url.QueryEscape(next)
}

func errorBody(msg string) map[string]string { return map[string]string{"error": msg} }

// UserFrom returns the user Middleware or RequireAdmin found for this request (Name and
// Role; never a password hash).
func UserFrom(c echo.Context) (User, bool) {
	u, ok := c.Get(contextKeyUser).(User)
	return u, ok
}

// RequireAdmin returns a middleware for routes that change settings: it must run after
// Middleware. Admins pass; viewers get 403 JSON {"error":"admin role required"}; a request
// without a user (Middleware missing in front) gets 401 JSON.
func RequireAdmin() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			u, ok := UserFrom(c)
			if !ok {
				return c.JSON(http.StatusUnauthorized, errorBody("authentication required"))
			}
			if !u.IsAdmin() {
				return c.JSON(http.StatusForbidden, errorBody("admin role required"))
			}
			return next(c)
		}
	}
}

// SafeNext returns next if it is a local path redirect target (it starts with "/" but not
// "//" or "/\", and contains no control characters or backslashes, which browsers may
// rewrite into "//"), and "/" otherwise. Use it on every ?next= before redirecting.
func SafeNext(next string) string {
	if next == "" || next[0] != '/' || len(next) > 2048 {
		return "/"
	}
	if len(next) > 1 && (next[1] == '/' || next[1] == '\\') {
		return "/"
	}
	for i := 0; i < len(next); i++ {
		if b := next[i]; b < 0x20 || b == 0x7f || b == '\\' {
			return "/"
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	return next
}

// SetSessionCookie puts session id in the response cookie SessionCookie: Path=/, HttpOnly,
// SameSite=Lax, expiring at expires, Secure when secure (serving TLS).
func SetSessionCookie(c echo.Context, id string, expires time.Time, secure bool) {
	c.SetCookie(&http.Cookie{
		Name:     SessionCookie,
		Value:    id,
		Path:     "/",
		Expires:  expires,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
		Secure:   secure,
	})
}

// ClearSessionCookie tells the browser to delete SessionCookie. Call Sessions.Delete too: the
// cookie alone is not the session.
func ClearSessionCookie(c echo.Context, secure bool) {
	c.SetCookie(&http.Cookie{
		Name:     SessionCookie,
		Value:    "",
		Path:     "/",
		Expires:  time.Unix(0, 0),
		MaxAge:   -1,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
		Secure:   secure,
	})
}
