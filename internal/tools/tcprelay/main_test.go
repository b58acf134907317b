package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// upper accepts connections, reads each until the client half-closes, answers the bytes in upper
// case and closes.
func upper(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				b, _ := io.ReadAll(c)
				_, _ = c.Write(bytes.ToUpper(b))
			}()
		}
	}()
	return ln
}

func TestRelay(t *testing.T) {
	t.Parallel()
	target := upper(t).Addr().String()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pr, pw := io.Pipe()
	var stderr strings.Builder
	exit := make(chan int, 1)
	go func() { exit <- run(ctx, []string{"127.0.0.1:0=" + target}, pw, &stderr); pw.Close() }()

	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("no relaying line: %v", err)
	}
	fields := strings.Fields(line)
	if len(fields) != 4 || fields[0] != "relaying" || fields[3] != target {
		t.Fatalf("first line = %q, want relaying <addr> -> %s", line, target)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()

	for _, msg := range []string{"hello", strings.Repeat("x", 1<<20)} {
		c, err := net.Dial("tcp", fields[1])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(c, msg); err != nil {
			t.Fatal(err)
		}
		// The target answers only after our half-close reached it through the relay.
		if err := c.(*net.TCPConn).CloseWrite(); err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(c)
		c.Close()
		if err != nil {
			t.Fatal(err)
		}
		if want := strings.ToUpper(msg); string(got) != want {
			t.Errorf("answer through the relay: %d bytes %.20q, want %d bytes %.20q", len(got), got, len(want), want)
		}
	}

	cancel()
	select {
	case code := <-exit:
		if code != 0 {
			t.Errorf("run() = %d after cancel, want 0 (stderr %q)", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run() did not return after its context ended")
	}
	if _, err := net.Dial("tcp", fields[1]); err == nil {
		t.Error("the relay still accepts connections after it stopped")
	}
}

func TestRunRefuses(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { busy.Close() }) // the parallel subtests run after this function returns
	tests := []struct {
		name string
		args []string
		want int
	}{
		{name: "no target", args: nil, want: 2},
		{name: "a bare target without -listen-host", args: []string{"127.0.0.1:80"}, want: 2},
		{name: "a target without a port", args: []string{"-listen-host", "127.0.0.1", "127.0.0.1"}, want: 2},
		{name: "a bad explicit target", args: []string{"127.0.0.1:0=nowhere"}, want: 2},
		{name: "an address in use", args: []string{busy.Addr().String() + "=127.0.0.1:1"}, want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// A run that wrongly starts relaying ends with this context instead of hanging.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var out, errOut strings.Builder
			if got := run(ctx, tt.args, &out, &errOut); got != tt.want {
				t.Errorf("run(%q) = %d, want %d (stderr %q)", tt.args, got, tt.want, errOut.String())
			}
			if errOut.Len() == 0 {
				t.Errorf("run(%q) wrote no message", tt.args)
			}
		})
	}
}
