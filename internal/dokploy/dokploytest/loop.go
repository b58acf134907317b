package dokploytest

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// loopServer is an HTTP server on a listener of its own: what httptest.Server gives tests,
// without linking test support into the binary.
type loopServer struct {
	srv  *http.Server
	url  string
	done chan struct{}
}

// listen serves h on addr ("127.0.0.1:0" for a free loopback port). Its URL names
// publicHost when that is set, else the address listened on.
func listen(addr, publicHost string, h http.Handler) (*loopServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	hostPort := ln.Addr().String()
	if publicHost != "" {
		_, port, _ := net.SplitHostPort(hostPort)
		hostPort = net.JoinHostPort(publicHost, port)
	}
	l := &loopServer{
		srv:  &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second},
		url:  "http://" + hostPort,
		done: make(chan struct{}),
	}
	go func() {
		defer close(l.done)
		if err := l.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			// Serve ends only on Close or a listener failure; either way the server is gone.
			_ = ln.Close()
		}
	}()
	return l, nil
}

// close closes the listener and every connection, then waits for Serve to return. Handlers
// still running see their request context end.
func (l *loopServer) close() {
	_ = l.srv.Close()
	<-l.done
}
