package probe

import (
	"context"
	"encoding/binary"
	"net"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/launchplane/runtime-identity/internal/clock/clocktest"
	"github.com/launchplane/runtime-identity/internal/identity"
)

// DNS wire format (RFC 1035 section 4.1): a 12-byte header, then the question.
const (
	rcodeServFail = 2 // RFC 1035 4.1.1: server failure
	rcodeNXDomain = 3 // RFC 1035 4.1.1: name error, the domain name does not exist
	typeA         = 1
)

// dnsServer is a loopback DNS server answering every query with rcode, or, once live, every A
// query with 127.0.0.1 and anything else with no records. Go's own resolver queries it, so the
// errors the probe sees are the ones a real NXDOMAIN or SERVFAIL produces.
type dnsServer struct {
	conn  net.PacketConn
	rcode byte
	live  atomic.Bool
}

func newDNSServer(t *testing.T, rcode byte) *dnsServer {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &dnsServer{conn: conn, rcode: rcode}
	t.Cleanup(func() { conn.Close() })
	go s.serve()
	return s
}

func (s *dnsServer) serve() {
	buf := make([]byte, 1500)
	for {
		n, addr, err := s.conn.ReadFrom(buf)
		if err != nil {
			return
		}
		if resp := s.answer(buf[:n]); resp != nil {
			_, _ = s.conn.WriteTo(resp, addr)
		}
	}
}

// answer builds the response to one query: its header and question, then the records.
func (s *dnsServer) answer(q []byte) []byte {
	end := 12
	for end < len(q) && q[end] != 0 {
		end += int(q[end]) + 1
	}
	end += 5 // the root label, QTYPE, QCLASS
	if len(q) < 12 || end > len(q) {
		return nil
	}
	resp := append([]byte(nil), q[:end]...)
	resp[2] = 0x80 | 0x04 | q[2]&0x01 // QR, AA, RD as asked
	resp[3] = 0x80                    // RA
	binary.BigEndian.PutUint16(resp[6:], 0)
	binary.BigEndian.PutUint16(resp[8:], 0)
	binary.BigEndian.PutUint16(resp[10:], 0)
	if !s.live.Load() {
		resp[3] |= s.rcode
		return resp
	}
	if binary.BigEndian.Uint16(q[end-4:]) == typeA {
		binary.BigEndian.PutUint16(resp[6:], 1)
		// The name as a pointer to the question's, type A, class IN, TTL 0, 4 bytes of address.
		resp = append(resp, 0xc0, 12, 0, typeA, 0, 1, 0, 0, 0, 0, 0, 4, 127, 0, 0, 1)
	}
	return resp
}

// client resolves every name through the server.
func (s *dnsServer) client() *http.Client {
	resolver := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "udp", s.conn.LocalAddr().String())
	}}
	return &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{Resolver: resolver}).DialContext}}
}

// TestPollDNS: a host that does not resolve is reported as such from the first round, and Poll
// keeps trying, since a new preview's DNS record may not exist yet.
func TestPollDNS(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		rcode     byte
		liveAfter int // the round after which the name resolves; 0: never

		wantFailure      Failure
		wantHostNotFound bool
		wantStatus       identity.Status
	}{
		{"NXDOMAIN throughout", rcodeNXDomain, 0, FailureDNSNotFound, true, identity.StatusUnverifiable},
		{"SERVFAIL is temporary", rcodeServFail, 0, FailureDNSTemporary, false, identity.StatusUnverifiable},
		{"NXDOMAIN until the record exists", rcodeNXDomain, 3, FailureDNSNotFound, false, identity.StatusMatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dns := newDNSServer(t, tt.rcode)
			tn := newTenant(t, false, map[string]func(int) reply{healthPath: always(healthReply(newID))})
			u, err := url.Parse(tn.URL)
			if err != nil {
				t.Fatal(err)
			}
			clk := clocktest.New()
			var first Answer
			res, err := Poll(context.Background(), Options{
				HealthURL: "http://pr-42.preview.example.test:" + u.Port() + healthPath,
				Expected:  &newID,
				Timeout:   time.Second,
				Client:    dns.client(),
				Now:       clk.Now,
				Sleep:     clk.Sleep,
				OnRound: func(r Round) {
					if r.N == 1 {
						first, _ = r.Decided()
					}
					if r.N == tt.liveAfter {
						dns.live.Store(true)
					}
				},
			})
			if err != nil {
				t.Fatalf("Poll() error = %v", err)
			}
			if first.Failure != tt.wantFailure || first.Observation.Status != identity.StatusUnverifiable {
				t.Errorf("Poll() first round = %s, failure %q (%s), want unverifiable, %q", first.Observation.Status, first.Failure, first.Error, tt.wantFailure)
			}
			if res.HostNotFound != tt.wantHostNotFound || res.Verdict.Status != tt.wantStatus {
				t.Errorf("Poll() = %s, host not found %v; want %s, %v", res.Verdict.Status, res.HostNotFound, tt.wantStatus, tt.wantHostNotFound)
			}
			wantAttempts := 10 // one second of rounds 100 ms apart
			if tt.liveAfter > 0 {
				wantAttempts = tt.liveAfter + 1
			}
			if res.Attempts != wantAttempts {
				t.Errorf("Poll() attempts = %d, want %d: it keeps trying through DNS failures", res.Attempts, wantAttempts)
			}
		})
	}
}
