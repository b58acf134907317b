// Command fleetbench measures `runtime-identity inventory` on fleets of 10 to 10,000 loopback
// tenants: wall time and peak memory of the real binary, beside a reference measured in the same
// run on the same tenants, a bare client that sends the same requests as the probe (a health_url
// lane's health JSON and its origin's well-known document at once, a base_url lane's well-known
// document; each on a fresh connection), at the same concurrency, and reads the bodies without
// classifying anything.
//
// The tenants are honest about connections: up to -listeners loopback listeners, each on its own
// host and port (127.0.0.1 to 127.0.0.4), and lanes share a listener only beyond that, on their own
// path. Lanes alternate between health_url (the health JSON decides; the origin's well-known
// document answers 404) and base_url (the lane's own well-known document decides); 90 % serve
// their expected identity, 5 % an old one, 5 % none.
//
// Usage:
//
//	go build -o /tmp/ri ./cmd/action
//	go run ./internal/inventory/fleetbench -bin /tmp/ri [-lanes 10,100,1000,10000] [-concurrency 64] [-runs 3]
//
// It prints one Markdown table row a fleet size. Every run's report is checked: the counts must be
// what the tenants serve, or the command fails.
//
// Peak memory is the kernel's ru_maxrss of each measured process. Linux carries the parent's
// high-water mark into a child that execs after a vfork-style clone (which os/exec uses), so the
// tenants and the report checks run in a "serve" subprocess and the measuring parent stays small:
// its own peak (a few MB) is below every figure it reports.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/launchplane/runtime-identity/internal/identity"
	"github.com/launchplane/runtime-identity/internal/inventory"
)

func main() {
	if len(os.Args) > 1 {
		sub := map[string]func([]string) error{"reference": reference, "serve": serve}[os.Args[1]]
		if sub != nil {
			if err := sub(os.Args[2:]); err != nil {
				fmt.Fprintln(os.Stderr, "fleetbench "+os.Args[1]+":", err)
				os.Exit(1)
			}
			return
		}
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "fleetbench:", err)
		os.Exit(1)
	}
}

func run() error {
	bin := flag.String("bin", "", "the runtime-identity binary to measure (go build -o /tmp/ri ./cmd/action)")
	sizes := flag.String("lanes", "10,100,1000,10000", "fleet sizes, comma-separated")
	conc := flag.Int("concurrency", 64, "inventory --concurrency and the reference's")
	runs := flag.Int("runs", 3, "runs per fleet size; the median is shown")
	listeners := flag.Int("listeners", 1000, "at most this many loopback listeners")
	flag.Parse()
	if *bin == "" {
		return errors.New("-bin is required: go build -o /tmp/ri ./cmd/action")
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "fleetbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	fmt.Printf("| lanes | listeners | inventory wall ms | reference wall ms | inventory / reference | µs a lane | inventory peak RSS MB | reference peak RSS MB |\n")
	fmt.Printf("|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return fmt.Errorf("bad fleet size %q", s)
		}
		lanesFile := filepath.Join(dir, fmt.Sprintf("lanes-%d.json", n))
		tenants, err := startServe(self, n, min(n, *listeners), lanesFile)
		if err != nil {
			return err
		}
		var inv, ref []measure
		for r := range *runs {
			out := filepath.Join(dir, fmt.Sprintf("report-%d-%d.json", n, r))
			m, err := timed(exec.Command(*bin, "inventory", "--lanes", lanesFile, "--concurrency", strconv.Itoa(*conc), "--format", "json", "--output", out))
			if err != nil {
				tenants.stop()
				return fmt.Errorf("inventory of %d lanes: %w", n, err)
			}
			if err := tenants.check(out); err != nil {
				tenants.stop()
				return fmt.Errorf("inventory of %d lanes: %w", n, err)
			}
			os.Remove(out)
			inv = append(inv, m)
			m, err = timed(exec.Command(self, "reference", "-lanes", lanesFile, "-concurrency", strconv.Itoa(*conc)))
			if err != nil {
				tenants.stop()
				return fmt.Errorf("reference of %d lanes: %w", n, err)
			}
			ref = append(ref, m)
		}
		tenants.stop()
		mi, mr := median(inv), median(ref)
		fmt.Printf("| %d | %d | %.0f | %.0f | %.2f | %.0f | %.1f | %.1f |\n", n, min(n, *listeners),
			ms(mi.wall), ms(mr.wall), float64(mi.wall)/float64(mr.wall), float64(mi.wall.Microseconds())/float64(n), mi.rssMB, mr.rssMB)
	}
	return nil
}

type measure struct {
	wall  time.Duration
	rssMB float64
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// median takes the median wall time and, independently, the median peak memory.
func median(ms []measure) measure {
	w := make([]time.Duration, len(ms))
	r := make([]float64, len(ms))
	for i, m := range ms {
		w[i], r[i] = m.wall, m.rssMB
	}
	slices.Sort(w)
	slices.Sort(r)
	return measure{w[len(w)/2], r[len(r)/2]}
}

// timed runs cmd and returns its wall time and peak resident memory (the kernel's ru_maxrss).
func timed(cmd *exec.Cmd) (measure, error) {
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		var ee *exec.ExitError
		// Exit 1 (a required lane not matching) cannot happen: the bench requires no lane.
		if !errors.As(err, &ee) {
			return measure{}, err
		}
		return measure{}, fmt.Errorf("%w: %s", err, stderr.String())
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return measure{}, errors.New("no resource usage on this platform")
	}
	return measure{wall: wall, rssMB: float64(ru.Maxrss) / 1024}, nil
}

// tenants is a running serve subprocess: it holds the fleet and checks reports, so the
// measuring process stays small.
type tenants struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

func startServe(self string, n, listeners int, lanesFile string) (*tenants, error) {
	cmd := exec.Command(self, "serve", "-lanes", strconv.Itoa(n), "-listeners", strconv.Itoa(listeners), "-file", lanesFile)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	t := &tenants{cmd: cmd, in: in, out: bufio.NewReader(out)}
	if line, err := t.out.ReadString('\n'); err != nil || line != "ready\n" {
		t.stop()
		return nil, fmt.Errorf("the tenants did not start: %q %v", line, err)
	}
	return t, nil
}

// check asks the serve process to read a report and compare its counts with the fleet's.
func (t *tenants) check(report string) error {
	if _, err := fmt.Fprintln(t.in, report); err != nil {
		return err
	}
	line, err := t.out.ReadString('\n')
	if err != nil {
		return err
	}
	if line != "ok\n" {
		return errors.New(strings.TrimSpace(line))
	}
	return nil
}

func (t *tenants) stop() {
	t.in.Close()
	t.cmd.Wait()
}

// serve runs a fleet, writes its lanes file, says "ready", then checks each report path it reads
// on standard input until that closes.
func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	n := fs.Int("lanes", 10, "")
	listeners := fs.Int("listeners", 10, "")
	file := fs.String("file", "", "")
	if err := fs.Parse(args); err != nil {
		return err
	}
	f, err := startFleet(*n, *listeners)
	if err != nil {
		return err
	}
	defer f.close()
	if err := os.WriteFile(*file, f.lanesFile, 0o644); err != nil {
		return err
	}
	fmt.Println("ready")
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		if err := f.check(in.Text()); err != nil {
			fmt.Println(strings.ReplaceAll(err.Error(), "\n", " "))
			continue
		}
		fmt.Println("ok")
	}
	return in.Err()
}

// fleet is n loopback tenants.
type fleet struct {
	lanesFile []byte
	listeners int
	want      inventory.Counts
	servers   []*http.Server
}

func laneID(i int) identity.Identity {
	ctx := fmt.Sprintf("c%05d", i)
	inst := []string{"prod", "testing"}[i%2]
	return identity.Identity{
		SchemaVersion: 1, Product: fmt.Sprintf("p%02d", i%20), Context: ctx, Instance: inst, EnvironmentKind: identity.KindStable,
		DeploymentRecordID: "deployment-20260510T141500Z-" + ctx + "-" + inst,
		ArtifactID:         "ghcr.io/acme/app@sha256:" + strings.Repeat("1", 64),
		SourceGitRef:       "6b3c9d7e8f901234567890abcdef1234567890ab",
	}
}

// serves says what lane i serves: its identity, an old one, or none.
func serves(i int) string {
	switch i % 20 {
	case 7:
		return "stale"
	case 12:
		// A health_url lane (even): its health JSON says null. A base_url lane without an
		// identity answers 404 on the well-known document, which is unverifiable, not missing.
		return "none"
	}
	return "match"
}

func startFleet(n, listeners int) (*fleet, error) {
	f := &fleet{listeners: listeners}
	type lane struct {
		health   []byte // the health body
		known    []byte // the well-known body; nil answers 404
		dep, dig string
	}
	lanes := make([]lane, n)
	for i := range lanes {
		id := laneID(i)
		switch serves(i) {
		case "stale":
			id.SourceGitRef = "0000000aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			f.want.Mismatch++
		case "none":
			lanes[i].health = []byte(`{"status":"ok","runtime_identity":null}`)
			f.want.Missing++
			continue
		default:
			f.want.Match++
		}
		lanes[i].known = id.Canonical()
		lanes[i].health = []byte(`{"status":"ok","runtime_identity":` + string(id.Canonical()) + `}`)
		lanes[i].dep, lanes[i].dig = id.DeploymentRecordID, id.Digest()
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// /t/<i>/api/health or /t/<i>/.well-known/launchplane-runtime.json
		rest, ok := strings.CutPrefix(r.URL.Path, "/t/")
		num, path, _ := strings.Cut(rest, "/")
		i, err := strconv.Atoi(num)
		if !ok || err != nil || i < 0 || i >= n {
			http.NotFound(w, r)
			return
		}
		l := lanes[i]
		if l.dep != "" {
			w.Header().Set(identity.HeaderDeployment, l.dep)
			w.Header().Set(identity.HeaderDigest, l.dig)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		switch "/" + path {
		case "/api/health":
			w.Write(l.health)
		case identity.WellKnownPath:
			if l.known == nil {
				http.NotFound(w, r)
				return
			}
			w.Write(l.known)
		default:
			http.NotFound(w, r)
		}
	})
	addrs := make([]string, listeners)
	for k := range listeners {
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.%d:0", 1+k%4))
		if err != nil {
			f.close()
			return nil, fmt.Errorf("listener %d of %d: %w", k, listeners, err)
		}
		srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
		f.servers = append(f.servers, srv)
		go srv.Serve(ln)
		addrs[k] = ln.Addr().String()
	}
	type fileLane struct {
		Product         string             `json:"product"`
		Context         string             `json:"context"`
		Instance        string             `json:"instance"`
		HealthURL       string             `json:"health_url,omitempty"`
		BaseURL         string             `json:"base_url,omitempty"`
		Expected        *identity.Identity `json:"expected"`
		RequireIdentity bool               `json:"require_identity"`
	}
	doc := struct {
		Lanes []fileLane `json:"lanes"`
	}{}
	for i := range n {
		id := laneID(i)
		fl := fileLane{Product: id.Product, Context: id.Context, Instance: id.Instance, Expected: &id}
		base := fmt.Sprintf("http://%s/t/%d", addrs[i%listeners], i)
		if i%2 == 0 {
			fl.HealthURL = base + "/api/health"
		} else {
			fl.BaseURL = base
		}
		doc.Lanes = append(doc.Lanes, fl)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	f.lanesFile = b
	return f, nil
}

func (f *fleet) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for _, s := range f.servers {
		wg.Go(func() { s.Shutdown(ctx) })
	}
	wg.Wait()
}

// check reads a report and compares its counts with what the tenants serve.
func (f *fleet) check(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	rep, err := inventory.ReadReport(path, data)
	if err != nil {
		return err
	}
	if rep.Counts != f.want {
		return fmt.Errorf("counts %+v, want %+v", rep.Counts, f.want)
	}
	return nil
}

// reference sends each lane's GETs as the probe does (a health_url lane's two at once), each on a
// fresh connection, at the same concurrency, and reads the bodies.
func reference(args []string) error {
	fs := flag.NewFlagSet("reference", flag.ContinueOnError)
	lanesPath := fs.String("lanes", "", "")
	conc := fs.Int("concurrency", 64, "")
	if err := fs.Parse(args); err != nil {
		return err
	}
	data, err := os.ReadFile(*lanesPath)
	if err != nil {
		return err
	}
	var doc struct {
		Lanes []struct {
			HealthURL string `json:"health_url"`
			BaseURL   string `json:"base_url"`
		} `json:"lanes"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return err
	}
	client := &http.Client{Timeout: 10 * time.Second}
	get := func(u string) error {
		req, err := http.NewRequest(http.MethodGet, u, nil)
		if err != nil {
			return err
		}
		req.Close = true
		req.Header.Set("Cache-Control", "no-cache")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		_, err = io.Copy(io.Discard, bufio.NewReader(io.LimitReader(resp.Body, 1<<20)))
		return err
	}
	next := make(chan int)
	errs := make(chan error, *conc)
	var wg sync.WaitGroup
	for range *conc {
		wg.Go(func() {
			for i := range next {
				l := doc.Lanes[i]
				urls := []string{l.HealthURL, ""}
				if l.HealthURL != "" {
					origin := l.HealthURL[:strings.Index(l.HealthURL[len("http://"):], "/")+len("http://")]
					urls[1] = origin + identity.WellKnownPath
				} else {
					urls[0] = l.BaseURL + identity.WellKnownPath
					urls = urls[:1]
				}
				var lane sync.WaitGroup
				for _, u := range urls {
					lane.Go(func() {
						if err := get(u); err != nil {
							select {
							case errs <- err:
							default:
							}
						}
					})
				}
				lane.Wait()
			}
		})
	}
	for i := range doc.Lanes {
		next <- i
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}
