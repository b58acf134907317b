package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/url"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// redactURL renders u without credentials, query or fragment: what may be recorded and shown.
func redactURL(u *url.URL) string {
	c := *u
	c.User = nil
	c.RawQuery, c.ForceQuery = "", false
	c.Fragment, c.RawFragment = "", ""
	return c.String()
}

// urlPattern finds URL-like text inside error messages.
var urlPattern = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^\s"'<>]+`)

// redactText rewrites every URL in s through redactURL; a URL that does not parse is replaced
// whole, since it cannot be cleaned reliably.
func redactText(s string) string {
	return urlPattern.ReplaceAllStringFunc(s, func(raw string) string {
		u, err := url.Parse(raw)
		if err != nil || u.Opaque != "" {
			return "<url>"
		}
		return redactURL(u)
	})
}

// maxDetail bounds an error detail; transport errors are short, but their text is not ours.
const maxDetail = 200

// describe turns a request error into a short detail that holds no query string and no
// credentials.
func describe(ctx context.Context, err error, timeout time.Duration) string {
	var (
		dnsErr   *net.DNSError
		certErr  *tls.CertificateVerificationError
		authErr  x509.UnknownAuthorityError
		hostErr  x509.HostnameError
		invErr   x509.CertificateInvalidError
		recErr   tls.RecordHeaderError
		netErr   net.Error
		urlErr   *url.Error
		alertErr tls.AlertError
	)
	switch {
	case errors.Is(err, errTooManyRedirects):
		return "more than 3 redirects: stopped before following the 4th"
	case ctx.Err() != nil:
		return "cancelled"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return "timed out after " + timeout.String()
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.As(err, &dnsErr):
		return clip(redactText("DNS lookup of " + dnsErr.Name + " failed: " + dnsErr.Err))
	case errors.As(err, &certErr):
		return clip(redactText("TLS certificate not accepted: " + certErr.Err.Error()))
	case errors.As(err, &authErr), errors.As(err, &hostErr), errors.As(err, &invErr):
		return clip(redactText("TLS certificate not accepted: " + unwrapURLError(err).Error()))
	case errors.As(err, &recErr):
		return "TLS handshake failed: the server did not answer with TLS"
	case errors.As(err, &alertErr):
		return "TLS handshake failed: " + alertErr.Error()
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "the connection closed before a complete answer"
	case errors.As(err, &urlErr):
		return clip(redactText(urlErr.Err.Error()))
	default:
		return clip(redactText(err.Error()))
	}
}

func unwrapURLError(err error) error {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return urlErr.Err
	}
	return err
}

func clip(s string) string {
	if len(s) <= maxDetail {
		return s
	}
	return strings.ToValidUTF8(s[:maxDetail], "") + "..."
}
