package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/redwatch/redwatch/app/auth"
	"github.com/redwatch/redwatch/views/pages"
)

// showLogin renders the login form; a logged-in user goes straight on.
func (s *Server) showLogin(c echo.Context) error {
	next := auth.SafeNext(c.QueryParam("next"))
	if ck, err := c.Cookie(auth.SessionCookie); err == nil {
		if _, ok := s.opts.Sessions.Lookup(ck.Value); ok {
			return c.Redirect(http.StatusSeeOther, next)
		}
	}
	return render(c, http.StatusOK, pages.Login(pages.LoginProps{Layout: s.layoutProps(c, "Log in", ""), Next: next}))
}

// submitLogin checks the credentials, starts a session and redirects to next.
func (s *Server) submitLogin(c echo.Context) error {
	name := c.FormValue("username")
	password := c.FormValue("password")
	next := auth.SafeNext(c.FormValue("next"))
	ip := c.RealIP()
	fail := func(code int, msg string) error {
		return render(c, code, pages.Login(pages.LoginProps{Layout: s.layoutProps(c, "Log in", ""), Next: next, Username: name, Error: msg}))
	}
	if !s.limiter.Allow(ip) {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(s.limiter.RetryAfter(ip).Seconds())+1))
		return fail(http.StatusTooManyRequests, "Too many failed attempts. Try again in a few minutes.")
	}
	u, ok := s.opts.Users.Authenticate(name, password)
	if !ok {
		s.limiter.Fail(ip)
		s.opts.Logger.Warn("login failed", "request_id", requestID(c), "user", name, "ip", ip)
		return fail(http.StatusUnauthorized, "Wrong user name or password.")
	}
	s.limiter.Success(ip)
	id, expires, err := s.opts.Sessions.Create(u)
	if err != nil {
		return err
	}
	auth.SetSessionCookie(c, id, expires, s.secure)
	s.opts.Logger.Info("login", "request_id", requestID(c), "user", u.Name, "ip", ip)
	return c.Redirect(http.StatusSeeOther, next)
}

// submitLogout ends the session.
func (s *Server) submitLogout(c echo.Context) error {
	if ck, err := c.Cookie(auth.SessionCookie); err == nil {
		if err := s.opts.Sessions.Delete(ck.Value); err != nil {
			return err
		}
	}
	auth.ClearSessionCookie(c, s.secure)
	return c.Redirect(http.StatusSeeOther, auth.LoginPath)
}
