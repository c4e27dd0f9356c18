package email_test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"io"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redwatch/redwatch/app/alert"
	"github.com/redwatch/redwatch/app/config"
	"github.com/redwatch/redwatch/app/notify"
	"github.com/redwatch/redwatch/app/notify/email"
)

// received is what the test SMTP server saw in one session that reached DATA.
type received struct {
	tls      bool
	authUser string
	from     string
	to       []string
	data     []byte
}

// smtpServer is a small, real SMTP server (RFC 5321 subset: EHLO, STARTTLS, AUTH PLAIN,
// MAIL, RCPT, DATA, RSET, NOOP, QUIT) listening on a loopback port.
type smtpServer struct {
	host, port  string
	implicitTLS bool   // TLS from the first byte (port 465 style)
	startTLS    bool   // offer STARTTLS
	user, pass  string // AUTH PLAIN credentials; empty: no AUTH required
	tlsConfig   *tls.Config
	msgs        chan received

	mu       sync.Mutex
	authSeen int // AUTH commands received
}

func (s *smtpServer) authCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.authSeen
}

func startSMTP(t *testing.T, ip string, s *smtpServer) *smtpServer {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatalf("cannot listen on %s: %v", ip, err)
	}
	s.host, s.port, _ = net.SplitHostPort(ln.Addr().String())
	s.msgs = make(chan received, 10)
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { s.serve(c) })
		}
	})
	return s
}

func (s *smtpServer) serve(c net.Conn) {
	defer func() { c.Close() }()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	isTLS := false
	if s.implicitTLS {
		c = tls.Server(c, s.tlsConfig)
		isTLS = true
	}
	tp := textproto.NewConn(c)
	var rec received
	_ = tp.PrintfLine("220 mx.test ESMTP ready")
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			ext := []string{"mx.test"}
			if s.startTLS && !isTLS {
				ext = append(ext, "STARTTLS")
			}
			if s.user != "" {
				ext = append(ext, "AUTH PLAIN")
			}
			ext = append(ext, "8BITMIME")
			for i, e := range ext {
				sep := "-"
				if i == len(ext)-1 {
					sep = " "
				}
				_ = tp.PrintfLine("250%s%s", sep, e)
			}
		case "STARTTLS":
			if !s.startTLS || isTLS {
				_ = tp.PrintfLine("502 not now")
				continue
			}
			_ = tp.PrintfLine("220 go ahead")
			tc := tls.Server(c, s.tlsConfig)
			if err := tc.Handshake(); err != nil {
				return
			}
			c, isTLS = tc, true
			tp = textproto.NewConn(c)
			rec = received{}
		case "AUTH":
			s.mu.Lock()
			s.authSeen++
			s.mu.Unlock()
			mech, ir, _ := strings.Cut(arg, " ")
			b, err := base64.StdEncoding.DecodeString(ir)
			parts := strings.Split(string(b), "\x00")
			if mech != "PLAIN" || err != nil || len(parts) != 3 || parts[1] != s.user || parts[2] != s.pass {
				_ = tp.PrintfLine("535 5.7.8 authentication failed")
				continue
			}
			rec.authUser = parts[1]
			_ = tp.PrintfLine("235 2.7.0 authenticated")
		case "MAIL":
			if s.user != "" && rec.authUser == "" {
				_ = tp.PrintfLine("530 5.7.0 authentication required")
				continue
			}
			rec.from = between(arg, "<", ">")
			_ = tp.PrintfLine("250 ok")
		case "RCPT":
			rec.to = append(rec.to, between(arg, "<", ">"))
			_ = tp.PrintfLine("250 ok")
		case "DATA":
			_ = tp.PrintfLine("354 go on")
			data, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			rec.data, rec.tls = data, isTLS
			s.msgs <- rec
			_ = tp.PrintfLine("250 queued")
		case "RSET", "NOOP":
			_ = tp.PrintfLine("250 ok")
		case "QUIT":
			_ = tp.PrintfLine("221 bye")
			return
		default:
			_ = tp.PrintfLine("502 unknown command")
		}
	}
}

func between(s, a, b string) string {
	_, s, _ = strings.Cut(s, a)
	s, _, _ = strings.Cut(s, b)
	return s
}

// selfSigned returns a server certificate for 127.0.0.1 and localhost, and a pool trusting it.
func selfSigned(t *testing.T) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "mx.test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:     []string{"localhost"},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, pool
}

func testNotification() notify.Notification {
	t0 := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	return notify.Notification{
		Status: notify.StatusFiring,
		Alerts: []alert.Alert{{
			Rule: "RedisDown", Fingerprint: "0000000000000001", Severity: "critical", Summary: "Redis cache is down",
			Labels: map[string]string{"alertname": "RedisDown", "severity": "critical", "instance": "cache"},
			State:  alert.StateFiring, Value: 0, ActiveAt: t0.Add(-30 * time.Second), FiredAt: t0,
		}},
		ExternalURL: "https://rw.example.com",
	}
}

func port(t *testing.T, s *smtpServer) int {
	t.Helper()
	p, err := strconv.Atoi(s.port)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func receive(t *testing.T, s *smtpServer) received {
	t.Helper()
	select {
	case r := <-s.msgs:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("no message received")
	}
	return received{}
}

func TestEmailModes(t *testing.T) {
	serverTLS, pool := selfSigned(t)
	f := func(mode string, srv *smtpServer, wantTLS bool) {
		t.Helper()
		srv.tlsConfig = serverTLS
		srv.user, srv.pass = "alerts", "pa55word"
		startSMTP(t, "127.0.0.1", srv)
		e := email.New(config.Email{
			Host: srv.host, Port: port(t, srv), Username: "alerts", Password: "pa55word", TLS: mode,
			From: "Redwatch <redwatch@example.com>", To: []string{"ops@example.com", "Dev Team <dev@example.com>"},
		}, email.Options{TLSConfig: &tls.Config{RootCAs: pool}, Hello: "rw.test"})
		if e.Name() != "email" {
			t.Fatalf("Name() = %q", e.Name())
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := e.Send(ctx, testNotification()); err != nil {
			t.Fatalf("%s: Send: %v", mode, err)
		}
		r := receive(t, srv)
		if r.tls != wantTLS || r.authUser != "alerts" || r.from != "redwatch@example.com" ||
			!slices.Equal(r.to, []string{"ops@example.com", "dev@example.com"}) {
			t.Fatalf("%s: received tls=%v auth=%q from=%q to=%q", mode, r.tls, r.authUser, r.from, r.to)
		}
		msg, err := mail.ReadMessage(strings.NewReader(string(r.data)))
		if err != nil {
			t.Fatalf("%s: cannot parse the message: %v", mode, err)
		}
		if got := msg.Header.Get("Subject"); got != "[redwatch] FIRING: RedisDown (critical)" {
			t.Fatalf("Subject = %q", got)
		}
		if got := msg.Header.Get("From"); got != `"Redwatch" <redwatch@example.com>` {
			t.Fatalf("From = %q", got)
		}
		if got := msg.Header.Get("To"); got != `<ops@example.com>, "Dev Team" <dev@example.com>` {
			t.Fatalf("To = %q", got)
		}
		if _, err := msg.Header.Date(); err != nil {
			t.Fatalf("Date: %v", err)
		}
		if id := msg.Header.Get("Message-ID"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@example.com>") {
			t.Fatalf("Message-ID = %q", id)
		}
		if msg.Header.Get("MIME-Version") != "1.0" || msg.Header.Get("Content-Type") != "text/plain; charset=UTF-8" ||
			msg.Header.Get("Content-Transfer-Encoding") != "quoted-printable" {
			t.Fatalf("MIME headers: %v", msg.Header)
		}
		body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
		if err != nil {
			t.Fatal(err)
		}
		want := "FIRING: 1 alert\n\nRedisDown (critical)\n  Redis cache is down\n  labels: instance=cache\n" +
			"  value:  0\n  since:  2026-01-02 15:04:05 UTC\n\n-- \nredwatch\nhttps://rw.example.com/alerts\n"
		if got := strings.ReplaceAll(string(body), "\r\n", "\n"); got != want {
			t.Fatalf("%s: body\n got: %q\nwant: %q", mode, got, want)
		}
	}
	f("none", &smtpServer{}, false) // AUTH over clear text is allowed to 127.0.0.1 only
	f("starttls", &smtpServer{startTLS: true}, true)
	f("tls", &smtpServer{implicitTLS: true}, true)
}

func TestEmailRefusals(t *testing.T) {
	serverTLS, pool := selfSigned(t)
	send := func(srv *smtpServer, cfg config.Email) error {
		t.Helper()
		cfg.Host, cfg.Port = srv.host, port(t, srv)
		cfg.From, cfg.To = "redwatch@example.com", []string{"ops@example.com"}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return email.New(cfg, email.Options{TLSConfig: &tls.Config{RootCAs: pool}}).Send(ctx, testNotification())
	}
	noMessage := func(srv *smtpServer) {
		t.Helper()
		select {
		case r := <-srv.msgs:
			t.Fatalf("a message was delivered: %+v", r)
		default:
		}
	}

	// STARTTLS required but not offered: no downgrade to clear text.
	srv := startSMTP(t, "127.0.0.1", &smtpServer{tlsConfig: serverTLS})
	if err := send(srv, config.Email{TLS: "starttls"}); err == nil || !strings.Contains(err.Error(), "does not offer STARTTLS") {
		t.Fatalf("STARTTLS not offered: %v", err)
	}
	noMessage(srv)

	// Wrong password: the server's 535 is reported, the password is not.
	srv = startSMTP(t, "127.0.0.1", &smtpServer{startTLS: true, tlsConfig: serverTLS, user: "alerts", pass: "right"})
	err := send(srv, config.Email{TLS: "starttls", Username: "alerts", Password: "wr0ngpass"})
	if err == nil || !strings.Contains(err.Error(), "535") || strings.Contains(err.Error(), "wr0ngpass") {
		t.Fatalf("wrong password: %v", err)
	}
	noMessage(srv)

	// AUTH over clear text to a host that is not localhost/127.0.0.1/::1 is refused before
	// the credentials leave (127.0.0.2 is loopback on Linux but not one of those names).
	srv = startSMTP(t, "127.0.0.2", &smtpServer{user: "alerts", pass: "pa55word", tlsConfig: serverTLS})
	err = send(srv, config.Email{TLS: "none", Username: "alerts", Password: "pa55word"})
	if err == nil || !strings.Contains(err.Error(), "unencrypted connection") {
		t.Fatalf("AUTH in clear text: %v", err)
	}
	if n := srv.authCount(); n != 0 {
		t.Fatalf("the server received %d AUTH commands", n)
	}
	noMessage(srv)
}

func TestEmailHeaderInjection(t *testing.T) {
	srv := startSMTP(t, "127.0.0.1", &smtpServer{})
	n := testNotification()
	n.Alerts[0].Rule = "Evil\r\nBcc: rule@evil.example"
	n.Alerts[0].Labels["instance"] = "x\r\nBcc: x@y"
	n.Alerts[0].Summary = "s\r\n\r\nBcc: summary@evil.example\r\n.\r\nMAIL FROM:<a@b>"
	e := email.New(config.Email{Host: srv.host, Port: port(t, srv), TLS: "none", From: "redwatch@example.com", To: []string{"ops@example.com"}}, email.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.Send(ctx, n); err != nil {
		t.Fatalf("Send: %v", err)
	}
	r := receive(t, srv)
	if !slices.Equal(r.to, []string{"ops@example.com"}) {
		t.Fatalf("recipients = %q", r.to)
	}
	msg, err := mail.ReadMessage(strings.NewReader(string(r.data)))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range msg.Header {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{"Auto-Submitted", "Content-Transfer-Encoding", "Content-Type", "Date", "From", "Message-Id", "Mime-Version", "Subject", "To"}
	if !slices.Equal(keys, want) {
		t.Fatalf("headers = %q, want %q", keys, want)
	}
	if got := msg.Header.Get("Subject"); got != "[redwatch] FIRING: Evil  Bcc: rule@evil.example (critical)" {
		t.Fatalf("Subject = %q", got)
	}
	body, _ := io.ReadAll(quotedprintable.NewReader(msg.Body))
	sc := bufio.NewScanner(strings.NewReader(string(body)))
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "Bcc:") || sc.Text() == "." {
			t.Fatalf("a label started a line of its own: %q", sc.Text())
		}
	}
	if !strings.Contains(string(body), "labels: instance=x  Bcc: x@y") {
		t.Fatalf("body: %q", body)
	}
}

func TestEmailNonASCIISubject(t *testing.T) {
	n := testNotification()
	n.Alerts[0].Rule = "Speicher knapp für Köln"
	n.Reminder = true
	msg := email.New(config.Email{}, email.Options{Now: func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }}).
		Message(n, &mail.Address{Name: "Wächter", Address: "rw@example.com"}, []*mail.Address{{Address: "ops@example.com"}})
	var subject, from, date string
	for _, l := range strings.Split(string(msg), "\r\n") {
		if l == "" {
			break
		}
		if strings.IndexFunc(l, func(r rune) bool { return r > 127 }) >= 0 {
			t.Fatalf("header not ASCII: %q", l)
		}
		switch k, v, _ := strings.Cut(l, ": "); k {
		case "Subject":
			subject = v
		case "From":
			from = v
		case "Date":
			date = v
		}
	}
	if !strings.HasPrefix(subject, "=?utf-8?q?") {
		t.Fatalf("Subject not Q-encoded: %q", subject)
	}
	dec, err := new(mime.WordDecoder).DecodeHeader(subject)
	if err != nil || dec != "[redwatch] FIRING (reminder): Speicher knapp für Köln (critical)" {
		t.Fatalf("Subject decodes to %q, %v", dec, err)
	}
	if !strings.HasPrefix(from, "=?utf-8?q?W=C3=A4chter?=") || date != "Fri, 02 Jan 2026 03:04:05 +0000" {
		t.Fatalf("From = %q, Date = %q", from, date)
	}
}

func TestEmailTimeout(t *testing.T) {
	// A server that accepts the connection and never greets is bounded by the context.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	_, p, _ := net.SplitHostPort(ln.Addr().String())
	pn, _ := strconv.Atoi(p)
	e := email.New(config.Email{Host: "127.0.0.1", Port: pn, TLS: "none", From: "a@example.com", To: []string{"b@example.com"}}, email.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = e.Send(ctx, testNotification())
	if err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("Send to a silent server: %v after %s", err, time.Since(start))
	}
}
