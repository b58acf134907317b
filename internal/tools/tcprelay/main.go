// Command tcprelay forwards TCP connections from one address to another, so a container on the
// runner's Docker bridge can reach a server that listens on the host's loopback only (the example
// tenant and the demo's fake Dokploy do). The self-test workflow uses it:
//
//	tcprelay -listen-host 172.17.0.1 127.0.0.1:8080 127.0.0.1:9090
//
// listens on 172.17.0.1:8080 and 172.17.0.1:9090 and forwards to the same ports on 127.0.0.1, so
// a URL reaches the same server once its host is replaced. A target may also be given as
// LISTEN=TARGET (127.0.0.1:0=127.0.0.1:8080). For each relay it prints one line,
// "relaying <listen address> -> <target>", once it accepts connections; it stops on SIGTERM or
// SIGINT.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("tcprelay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	host := fs.String("listen-host", "", "address to listen on, at each target's port")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "tcprelay: name at least one target, HOST:PORT or LISTEN=TARGET")
		return 2
	}
	type relay struct{ listen, target string }
	var relays []relay
	for _, a := range fs.Args() {
		listen, target, explicit := strings.Cut(a, "=")
		if !explicit {
			target = a
			_, port, err := net.SplitHostPort(target)
			if err != nil || *host == "" {
				fmt.Fprintf(stderr, "tcprelay: target %q: want HOST:PORT with -listen-host, or LISTEN=TARGET\n", a)
				return 2
			}
			listen = net.JoinHostPort(*host, port)
		}
		if _, _, err := net.SplitHostPort(target); err != nil {
			fmt.Fprintf(stderr, "tcprelay: target %q: %v\n", target, err)
			return 2
		}
		relays = append(relays, relay{listen, target})
	}

	var lc net.ListenConfig
	var wg sync.WaitGroup
	var listeners []net.Listener
	for _, r := range relays {
		ln, err := lc.Listen(ctx, "tcp", r.listen)
		if err != nil {
			fmt.Fprintf(stderr, "tcprelay: %v\n", err)
			for _, l := range listeners {
				l.Close()
			}
			wg.Wait()
			return 1
		}
		listeners = append(listeners, ln)
		fmt.Fprintf(stdout, "relaying %s -> %s\n", ln.Addr(), r.target)
		wg.Add(1)
		go func() {
			defer wg.Done()
			serve(ctx, ln, r.target, stderr)
		}()
	}
	<-ctx.Done()
	for _, l := range listeners {
		l.Close()
	}
	wg.Wait()
	return 0
}

// serve accepts connections until the listener closes and pipes each to the target.
func serve(ctx context.Context, ln net.Listener, target string, stderr io.Writer) {
	var conns sync.WaitGroup
	defer conns.Wait()
	var d net.Dialer
	for {
		c, err := ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				fmt.Fprintf(stderr, "tcprelay: accept: %v\n", err)
			}
			return
		}
		conns.Add(1)
		go func() {
			defer conns.Done()
			defer c.Close()
			t, err := d.DialContext(ctx, "tcp", target)
			if err != nil {
				fmt.Fprintf(stderr, "tcprelay: %v\n", err)
				return
			}
			defer t.Close()
			pipe(ctx, c, t)
		}()
	}
}

// pipe copies both ways until both directions end, passing on each side's half-close, or until
// ctx ends.
func pipe(ctx context.Context, a, b net.Conn) {
	done := make(chan struct{}, 2)
	copyHalf := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		if cw, ok := dst.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		}
		done <- struct{}{}
	}
	go copyHalf(a, b)
	go copyHalf(b, a)
	for range 2 {
		select {
		case <-done:
		case <-ctx.Done():
			a.Close()
			b.Close()
			<-done
		}
	}
}
