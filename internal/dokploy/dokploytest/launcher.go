package dokploytest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Launcher starts one tenant process (one "replica set" of a service version) with env as its
// service environment.
type Launcher interface {
	Launch(ctx context.Context, env []string) (Backend, error)
}

// Backend is a running tenant version behind a service's tenant URL.
type Backend interface {
	// URL is the backend's base URL, such as http://127.0.0.1:40123.
	URL() string
	// Stop ends the backend; calling it again returns the first result.
	Stop() error
}

// listeningPrefix starts the one line a tenant prints once it listens (the tenant process
// protocol of the project).
const listeningPrefix = "listening on http://127.0.0.1:"

// ProcessLauncher starts a tenant as a local process: Path with Args, environment BaseEnv, then
// the service env, then PORT=0 (later entries win). It waits for the line
// "listening on http://127.0.0.1:<port>" on stdout and stops the process with SIGTERM, then
// SIGKILL after StopTimeout.
type ProcessLauncher struct {
	Path    string
	Args    []string
	BaseEnv []string
	// Stderr receives the process's stderr; nil discards it.
	Stderr io.Writer
	// StopTimeout bounds the wait after SIGTERM (default 5s).
	StopTimeout time.Duration
}

var _ Launcher = ProcessLauncher{}

// Process is a tenant process started by ProcessLauncher.
type Process struct {
	url     string
	cmd     *exec.Cmd
	exited  chan struct{}
	timeout time.Duration

	stopOnce sync.Once
	stopErr  error
}

var _ Backend = (*Process)(nil)

// Launch starts the process and returns once it listens, ctx ends, or it exits early.
func (l ProcessLauncher) Launch(ctx context.Context, env []string) (Backend, error) {
	return l.start(ctx, env)
}

func (l ProcessLauncher) start(ctx context.Context, env []string) (*Process, error) {
	if l.Path == "" {
		return nil, errors.New("dokploytest: launch: empty path")
	}
	cmd := exec.Command(l.Path, l.Args...)
	cmd.Env = make([]string, 0, len(l.BaseEnv)+len(env)+1)
	cmd.Env = append(cmd.Env, l.BaseEnv...)
	cmd.Env = append(cmd.Env, env...)
	cmd.Env = append(cmd.Env, "PORT=0")
	cmd.Stderr = l.Stderr
	if cmd.Stderr == nil {
		cmd.Stderr = io.Discard
	}
	// An *os.File as stdout lets Wait return without waiting for our reader.
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("dokploytest: launch: %w", err)
	}
	cmd.Stdout = pw
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		return nil, fmt.Errorf("dokploytest: launch: %w", err)
	}
	pw.Close()
	p := &Process{cmd: cmd, exited: make(chan struct{}), timeout: l.StopTimeout}
	if p.timeout <= 0 {
		p.timeout = 5 * time.Second
	}
	go func() {
		_ = cmd.Wait()
		close(p.exited)
	}()
	urls := make(chan string, 1)
	go func() {
		defer pr.Close()
		sc := bufio.NewScanner(pr)
		found := false
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if !found && strings.HasPrefix(line, listeningPrefix) {
				found = true
				urls <- strings.TrimPrefix(line, "listening on ")
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	select {
	case u := <-urls:
		p.url = u
		return p, nil
	case <-p.exited:
		return nil, errors.New("dokploytest: launch: process exited before listening")
	case <-ctx.Done():
		_ = p.Stop()
		return nil, fmt.Errorf("dokploytest: launch: %w", ctx.Err())
	}
}

// URL is the process's base URL.
func (p *Process) URL() string { return p.url }

// PID is the operating-system process id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Exited is closed once the process has ended and been reaped.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Stop sends SIGTERM, waits up to the stop timeout, then kills the process. It returns once
// the process has been reaped.
func (p *Process) Stop() error {
	p.stopOnce.Do(func() {
		select {
		case <-p.exited:
			return
		default:
		}
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
			p.stopErr = fmt.Errorf("dokploytest: stop: %w", err)
		}
		t := time.NewTimer(p.timeout)
		defer t.Stop()
		select {
		case <-p.exited:
		case <-t.C:
			_ = p.cmd.Process.Kill()
			<-p.exited
			p.stopErr = errors.New("dokploytest: stop: process ignored SIGTERM and was killed")
		}
	})
	return p.stopErr
}
