package web

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/redwatch/redwatch/app/auth"
	"github.com/redwatch/redwatch/views/pages"
)

// loginHandler serves /login and /logout.
type loginHandler struct {
	*pageKit
	users    credentialChecker
	sessions sessionStore
	limiter  loginLimiter
	isTLS    func(c echo.Context) bool // the session cookie is Secure (tlsPolicy.isTLS)
	log      *slog.Logger
}

// credentialChecker checks a login form's user name and password; *auth.Users satisfies it.
type credentialChecker interface {
	Authenticate(name, password string) (auth.User, bool)
}

// sessionStore starts, finds and ends the sessions behind the session cookie (liveSessions).
type sessionStore interface {
	Create(u auth.User) (id string, expires time.Time, err error)
	Lookup(id string) (auth.User, bool)
	Delete(id string) error
}

// liveSessions is a sessionStore: *auth.Sessions whose Lookup finds a session only while its
// user exists as it logged in (auth.Sessions.Lookup), as auth.Middleware does.
type liveSessions struct {
	*auth.Sessions
	users *auth.Users
}

func (s liveSessions) Lookup(id string) (auth.User, bool) { return s.Sessions.Lookup(id, s.users) }

// loginLimiter bounds the password checks per client and user name; *auth.Limiter satisfies
// it, the one auth.Middleware counts HTTP Basic failures in.
type loginLimiter interface {
	Attempt(user, ip string) (retryAfter time.Duration)
	Success(user, ip string)
}

// maxLoginBodyBytes bounds the body of POST /login and /logout, which anyone may send: a user
// name, a password of at most 72 bytes, the CSRF token and next fit many times over.
const maxLoginBodyBytes = 64 << 10

// limitLoginBody (routes.go puts it on POST /login and /logout) answers 413 to a POST whose body is over maxLoginBodyBytes,
// before CSRF or the handler parse it: without it the form parser takes up to 10 MB of an
// anonymous urlencoded body into memory, and a multipart body's files onto disk.
func limitLoginBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if req.Method != http.MethodPost {
			return next(c)
		}
		if req.ContentLength > maxLoginBodyBytes {
			return echo.NewHTTPError(http.StatusRequestEntityTooLarge, "login form too large")
		}
		req.Body = http.MaxBytesReader(c.Response(), req.Body, maxLoginBodyBytes)
		if err := req.ParseForm(); err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				return echo.NewHTTPError(http.StatusRequestEntityTooLarge, "login form too large")
			}
			return echo.NewHTTPError(http.StatusBadRequest, "cannot parse the login form")
		}
		return next(c)
	}
}

// showLogin renders the login form; a logged-in user goes straight on.
func (s *loginHandler) showLogin(c echo.Context) error {
	next := auth.SafeNext(c.QueryParam("next"))
	if ck, err := c.Cookie(auth.SessionCookie); err == nil {
		if _, ok := s.sessions.Lookup(ck.Value); ok {
			return c.Redirect(http.StatusSeeOther, next)
		}
	}
	return render(c, http.StatusOK, pages.Login(pages.LoginProps{Layout: s.layoutProps(c, "Log in", ""), Next: next}))
}

// submitLogin checks the credentials through the login limiter (per client and user name),
// starts a new session (ending the one the browser had, so a planted session id is worth
// nothing) and redirects to next.
func (s *loginHandler) submitLogin(c echo.Context) error {
	name := c.FormValue("username")
	password := c.FormValue("password")
	next := auth.SafeNext(c.FormValue("next"))
	ip := c.RealIP()
	fail := func(code int, msg string) error {
		return render(c, code, pages.Login(pages.LoginProps{Layout: s.layoutProps(c, "Log in", ""), Next: next, Username: name, Error: msg}))
	}
	if wait := s.limiter.Attempt(name, ip); wait > 0 {
		auth.SetRetryAfter(c, wait)
		s.log.Debug("login refused: too many failures", "request_id", requestID(c), "user", name, "ip", ip)
		return fail(http.StatusTooManyRequests, "Too many failed attempts. Try again in a few minutes.")
	}
	u, ok := s.users.Authenticate(name, password)
	if !ok {
		s.log.Warn("login failed", "request_id", requestID(c), "user", name, "ip", ip)
		return fail(http.StatusUnauthorized, "Wrong user name or password.")
	}
	s.limiter.Success(name, ip)
	if ck, err := c.Cookie(auth.SessionCookie); err == nil {
		if err := s.sessions.Delete(ck.Value); err != nil {
			return err
		}
	}
	id, expires, err := s.sessions.Create(u)
	if err != nil {
		return err
	}
	auth.SetSessionCookie(c, id, expires, s.isTLS(c))
	s.log.Info("login", "request_id", requestID(c), "user", u.Name, "ip", ip)
	return c.Redirect(http.StatusSeeOther, next)
}

// submitLogout ends the session on the server and clears its cookie.
func (s *loginHandler) submitLogout(c echo.Context) error {
	if ck, err := c.Cookie(auth.SessionCookie); err == nil {
		if err := s.sessions.Delete(ck.Value); err != nil {
			return err
		}
	}
	auth.ClearSessionCookie(c, s.isTLS(c))
	return c.Redirect(http.StatusSeeOther, auth.LoginPath)
}
