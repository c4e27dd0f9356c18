// Package email delivers notifications over SMTP: plain text UTF-8 mail, with STARTTLS,
// implicit TLS or no TLS, and AUTH PLAIN when a username is configured.
package email

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/redwatch/redwatch/app/config"
	"github.com/redwatch/redwatch/app/notify"
)

// Options tune an Email beyond its configuration. The zero value is fine.
type Options struct {
	// TLSConfig is cloned for STARTTLS and implicit TLS (e.g. RootCAs that trust a private
	// CA); its ServerName defaults to the configured host. Nil: the system roots, TLS 1.2+.
	TLSConfig *tls.Config
	// Hello is the name sent with EHLO (default: this machine's host name, else "localhost").
	Hello string
	// Now stamps the Date header (default time.Now).
	Now func() time.Time
}

// Email sends each notification as one mail to every configured recipient. Safe for
// concurrent use; one SMTP connection per Send.
type Email struct {
	cfg  config.Email
	opts Options
}

var _ notify.Notifier = (*Email)(nil)

// New returns the email notifier for cfg (enabled when cfg.Host is set; From and To are
// validated by config).
func New(cfg config.Email, opts Options) *Email {
	if opts.Hello == "" {
		opts.Hello = "localhost"
		if h, err := os.Hostname(); err == nil && h != "" {
			opts.Hello = h
		}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Email{cfg: cfg, opts: opts}
}

// Name implements notify.Notifier.
func (e *Email) Name() string { return "email" }

func (e *Email) tlsConfig() *tls.Config {
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if e.opts.TLSConfig != nil {
		c = e.opts.TLSConfig.Clone()
	}
	if c.ServerName == "" {
		c.ServerName = e.cfg.Host
	}
	return c
}

// Send implements notify.Notifier. AUTH is refused over a connection that is not encrypted
// unless the host is localhost, 127.0.0.1 or ::1 (net/smtp's rule); STARTTLS mode fails
// rather than continue in clear text when the server does not offer STARTTLS.
func (e *Email) Send(ctx context.Context, n notify.Notification) (err error) {
	from, err := mail.ParseAddress(e.cfg.From)
	if err != nil {
		return fmt.Errorf("cannot parse from address: %w", err)
	}
	to := make([]*mail.Address, 0, len(e.cfg.To))
	for _, s := range e.cfg.To {
		a, err := mail.ParseAddress(s)
		if err != nil {
			return fmt.Errorf("cannot parse to address: %w", err)
		}
		to = append(to, a)
	}
	if len(to) == 0 {
		return errors.New("no recipient configured")
	}
	msg := e.Message(n, from, to)

	addr := net.JoinHostPort(e.cfg.Host, strconv.Itoa(e.cfg.Port))
	var dialer net.Dialer
	conn, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("cannot connect to %s: %w", addr, err)
	}
	defer conn.Close()
	// A server that stops answering must not outlive ctx.
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	defer func() {
		if err != nil && ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", err, ctx.Err())
		}
	}()
	if e.cfg.TLS == "tls" {
		tc := tls.Client(conn, e.tlsConfig())
		if err := tc.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("cannot establish TLS with %s: %w", addr, err)
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, e.cfg.Host)
	if err != nil {
		return fmt.Errorf("cannot start SMTP with %s: %w", addr, err)
	}
	defer c.Close()
	if err := c.Hello(e.opts.Hello); err != nil {
		return fmt.Errorf("cannot greet %s: %w", addr, err)
	}
	if e.cfg.TLS == "starttls" {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return fmt.Errorf("%s does not offer STARTTLS (set notify.email.tls = \"none\" to send in clear text)", addr)
		}
		if err := c.StartTLS(e.tlsConfig()); err != nil {
			return fmt.Errorf("cannot STARTTLS with %s: %w", addr, err)
		}
	}
	if e.cfg.Username != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return fmt.Errorf("%s does not offer AUTH", addr)
		}
		if err := c.Auth(smtp.PlainAuth("", e.cfg.Username, e.cfg.Password, e.cfg.Host)); err != nil {
			return fmt.Errorf("cannot authenticate to %s as %q: %w", addr, e.cfg.Username, err)
		}
	}
	if err := c.Mail(from.Address); err != nil {
		return fmt.Errorf("%s refused the sender: %w", addr, err)
	}
	for _, a := range to {
		if err := c.Rcpt(a.Address); err != nil {
			return fmt.Errorf("%s refused recipient %s: %w", addr, a.Address, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("%s refused DATA: %w", addr, err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("cannot write the message to %s: %w", addr, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("%s did not accept the message: %w", addr, err)
	}
	if err := c.Quit(); err != nil {
		// The message was accepted; a failed QUIT does not make it undelivered.
		return nil
	}
	return nil
}

// Subject is the Subject of n's mail, e.g. "[redwatch] FIRING: RedisDown (critical)".
func Subject(n notify.Notification) string {
	return "[redwatch] " + notify.StatusWord(n) + ": " + notify.Title(n)
}

// Message renders n as an RFC 5322 message with CRLF line endings: every header value has CR
// and LF removed (a label cannot add a header) and is Q-encoded when not ASCII; the body is
// text/plain UTF-8, quoted-printable.
func (e *Email) Message(n notify.Notification, from *mail.Address, to []*mail.Address) []byte {
	var b bytes.Buffer
	header := func(k, v string) {
		v = notify.Sanitize(v)
		b.WriteString(k + ": " + mime.QEncoding.Encode("utf-8", v) + "\r\n")
	}
	addrs := make([]string, len(to))
	for i, a := range to {
		addrs[i] = a.String()
	}
	// mail.Address.String encodes non-ASCII display names itself.
	b.WriteString("From: " + notify.Sanitize(from.String()) + "\r\n")
	b.WriteString("To: " + notify.Sanitize(strings.Join(addrs, ", ")) + "\r\n")
	header("Subject", Subject(n))
	b.WriteString("Date: " + e.opts.Now().Format(time.RFC1123Z) + "\r\n")
	b.WriteString("Message-ID: " + messageID(from.Address) + "\r\n")
	b.WriteString("MIME-Version: 1.0\r\n")
	b.WriteString("Content-Type: text/plain; charset=UTF-8\r\n")
	b.WriteString("Content-Transfer-Encoding: quoted-printable\r\n")
	b.WriteString("Auto-Submitted: auto-generated\r\n")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	_, _ = qp.Write([]byte(Body(n)))
	_ = qp.Close()
	return b.Bytes()
}

// Body is the plain-text body of n's mail: one block per alert with its labels, value and
// since when it fires (or when it resolved).
func Body(n notify.Notification) string {
	var b strings.Builder
	what := "alert"
	if len(n.Alerts) != 1 {
		what = "alerts"
	}
	fmt.Fprintf(&b, "%s: %d %s", strings.ToUpper(n.Status), len(n.Alerts), what)
	if n.Reminder {
		b.WriteString(" (reminder: still firing)")
	}
	b.WriteString("\n")
	for _, a := range n.Alerts {
		b.WriteString("\n" + notify.Sanitize(a.Rule+" ("+a.Severity+")") + "\n")
		if a.Summary != "" {
			b.WriteString("  " + notify.Sanitize(a.Summary) + "\n")
		}
		if l := notify.LabelPairs(a); len(l) > 0 {
			b.WriteString("  labels: " + notify.Sanitize(strings.Join(l, ", ")) + "\n")
		}
		b.WriteString("  value:  " + notify.FormatValue(a.Value) + "\n")
		if t := notify.StartsAt(a); !t.IsZero() {
			b.WriteString("  since:  " + notify.FormatTime(t) + "\n")
		}
		if n.Status == notify.StatusResolved && !a.ResolvedAt.IsZero() {
			b.WriteString("  resolved: " + notify.FormatTime(a.ResolvedAt) + "\n")
		}
		if a.Silenced {
			b.WriteString("  silenced\n")
		}
	}
	b.WriteString("\n-- \nredwatch\n")
	if u := notify.AlertsURL(n.ExternalURL); u != "" {
		b.WriteString(notify.Sanitize(u) + "\n")
	}
	return b.String()
}

// messageID returns a unique Message-ID in the sender's domain.
func messageID(fromAddr string) string {
	var r [16]byte
	_, _ = rand.Read(r[:])
	domain := "redwatch.invalid"
	if _, d, ok := strings.Cut(fromAddr, "@"); ok && d != "" {
		domain = strings.Map(func(c rune) rune {
			if c == '.' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
				return c
			}
			return -1
		}, d)
	}
	return "<" + hex.EncodeToString(r[:]) + "@" + domain + ">"
}
