package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/url"
	"syscall"
	"time"
)

// Failure is why a request got no usable answer, as a kind a caller can branch on; Answer.Error
// says the same in words.
type Failure string

// The failure kinds.
const (
	// FailureDNSNotFound: the host does not resolve (NXDOMAIN). Permanent until its DNS record
	// exists, which for a new preview may be a while; Poll keeps retrying.
	FailureDNSNotFound Failure = "dns-not-found"
	// FailureDNSTemporary: the lookup failed for now (SERVFAIL, a resolver timeout).
	FailureDNSTemporary Failure = "dns-temporary"
	// FailureDNS: any other DNS failure.
	FailureDNS Failure = "dns"
	// FailureRefused: nothing listens on the port.
	FailureRefused Failure = "connection-refused"
	// FailureReset: the connection was reset.
	FailureReset Failure = "connection-reset"
	// FailureClosed: the connection closed before a complete answer.
	FailureClosed Failure = "connection-closed"
	// FailureTimeout: the request timed out.
	FailureTimeout Failure = "timeout"
	// FailureTLS: the TLS handshake failed or the certificate was not accepted.
	FailureTLS Failure = "tls"
	// FailureRedirects: more than MaxRedirects redirects.
	FailureRedirects Failure = "too-many-redirects"
	// FailureHTTPStatus: a non-2xx answer (the surface's own verdict when it decides; a 404 of a
	// surface that does not decide is NotServed instead).
	FailureHTTPStatus Failure = "http-status"
	// FailureTooLarge: a body over MaxBodyBytes.
	FailureTooLarge Failure = "body-too-large"
	// FailureDeadline: the overall deadline passed before the request could be sent.
	FailureDeadline Failure = "deadline"
	// FailureCancelled: the caller's context ended.
	FailureCancelled Failure = "cancelled"
	// FailureTransport: any other transport error.
	FailureTransport Failure = "transport"
)

// maxDetail bounds an error detail; transport errors are short, but their text is not ours.
const maxDetail = 200

// classify turns a request error into its kind and a short detail that holds no query string
// and no credentials.
func classify(ctx context.Context, err error, timeout time.Duration) (Failure, string) {
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
		return FailureRedirects, "more than 3 redirects: stopped before following the 4th"
	case ctx.Err() != nil:
		return FailureCancelled, "cancelled"
	// Before the timeouts: a *net.DNSError is a net.Error whose Timeout() is a resolver timeout.
	case errors.As(err, &dnsErr):
		switch {
		case dnsErr.IsNotFound:
			return FailureDNSNotFound, clip(redactText("the host " + dnsErr.Name + " does not resolve (DNS: " + dnsErr.Err + ")"))
		case dnsErr.IsTimeout, dnsErr.IsTemporary:
			return FailureDNSTemporary, clip(redactText("DNS lookup of " + dnsErr.Name + " failed for now: " + dnsErr.Err))
		default:
			return FailureDNS, clip(redactText("DNS lookup of " + dnsErr.Name + " failed: " + dnsErr.Err))
		}
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return FailureTimeout, "timed out after " + timeout.String()
	case errors.Is(err, syscall.ECONNREFUSED):
		return FailureRefused, "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return FailureReset, "connection reset"
	case errors.As(err, &certErr):
		return FailureTLS, clip(redactText("TLS certificate not accepted: " + certErr.Err.Error()))
	case errors.As(err, &authErr), errors.As(err, &hostErr), errors.As(err, &invErr):
		return FailureTLS, clip(redactText("TLS certificate not accepted: " + unwrapURLError(err).Error()))
	case errors.As(err, &recErr):
		return FailureTLS, "TLS handshake failed: the server did not answer with TLS"
	case errors.As(err, &alertErr):
		return FailureTLS, "TLS handshake failed: " + alertErr.Error()
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return FailureClosed, "the connection closed before a complete answer"
	case errors.As(err, &urlErr):
		return FailureTransport, clip(redactText(urlErr.Err.Error()))
	default:
		return FailureTransport, clip(redactText(err.Error()))
	}
}

func unwrapURLError(err error) error {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return urlErr.Err
	}
	return err
}
