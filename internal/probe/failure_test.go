package probe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	bg := context.Background()
	secret := &url.Error{Op: "Get", URL: "http://u:secret@h/?k=secret", Err: errors.New("proxy said no to http://u:secret@h/x?k=secret")}
	// dial wraps err the way net/http returns a dial failure.
	dial := func(err error) error {
		return &url.Error{Op: "Get", URL: "http://pr-42.preview.example.test/api/health?_launchplane_probe=x", Err: &net.OpError{Op: "dial", Net: "tcp", Err: err}}
	}
	dnsErr := func(e net.DNSError) error {
		e.Name = "pr-42.preview.example.test"
		return dial(&e)
	}
	tests := []struct {
		name       string
		ctx        context.Context
		err        error
		wantKind   Failure
		wantDetail string
	}{
		{"redirects", bg, &url.Error{Op: "Get", URL: "http://h/?k=secret", Err: errTooManyRedirects}, FailureRedirects, "more than 3 redirects: stopped before following the 4th"},
		{"cancelled", cancelled, context.Canceled, FailureCancelled, "cancelled"},
		{"cancelled during a lookup", cancelled, dnsErr(net.DNSError{Err: "operation was canceled"}), FailureCancelled, "cancelled"},
		{"deadline", bg, fmt.Errorf("wrap: %w", context.DeadlineExceeded), FailureTimeout, "timed out after 5s"},
		{"NXDOMAIN", bg, dnsErr(net.DNSError{Err: "no such host", IsNotFound: true}), FailureDNSNotFound, "the host pr-42.preview.example.test does not resolve (DNS: no such host)"},
		{"SERVFAIL", bg, dnsErr(net.DNSError{Err: "server misbehaving", IsTemporary: true}), FailureDNSTemporary, "DNS lookup of pr-42.preview.example.test failed for now: server misbehaving"},
		{"resolver timeout", bg, dnsErr(net.DNSError{Err: "i/o timeout", IsTimeout: true}), FailureDNSTemporary, "DNS lookup of pr-42.preview.example.test failed for now: i/o timeout"},
		{"other DNS failure", bg, dnsErr(net.DNSError{Err: "server misbehaving"}), FailureDNS, "DNS lookup of pr-42.preview.example.test failed: server misbehaving"},
		{"refused", bg, dial(os.NewSyscallError("connect", syscall.ECONNREFUSED)), FailureRefused, "connection refused"},
		{"reset", bg, dial(os.NewSyscallError("read", syscall.ECONNRESET)), FailureReset, "connection reset"},
		{"closed", bg, &url.Error{Op: "Get", URL: "http://h/", Err: fmt.Errorf("read: %w", errors.New("x"))}, FailureTransport, "read: x"},
		{"EOF", bg, &url.Error{Op: "Get", URL: "http://h/", Err: fmt.Errorf("read: %w", io.ErrUnexpectedEOF)}, FailureClosed, "the connection closed before a complete answer"},
		{"other error", bg, secret, FailureTransport, "proxy said no to http://h/x"},
		{"long error", bg, errors.New(strings.Repeat("x", 300)), FailureTransport, strings.Repeat("x", maxDetail) + "..."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			kind, detail := classify(tt.ctx, tt.err, 5*time.Second)
			if kind != tt.wantKind || detail != tt.wantDetail {
				t.Errorf("classify() = %q, %q, want %q, %q", kind, detail, tt.wantKind, tt.wantDetail)
			}
			if strings.Contains(detail, "secret") || strings.Contains(detail, QueryParam) {
				t.Errorf("classify() detail %q leaks a query or credential", detail)
			}
		})
	}
}
