package dokploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// searchServer answers application.search or compose.search as Dokploy does
// (apps/dokploy/server/api/routers/application.ts and compose.ts, search):
// the appName filter is ILIKE '%<trimmed term>%' ("_" one character, "%" any
// run, case-insensitive), rows newest first, limit 1-100 (default 20), offset
// >= 0, and total counts every match.
type searchServer struct {
	kind     TargetKind
	services []SearchItem // newest first
	// shortPages makes every page one item shorter than asked, as a server
	// whose rows move between pages might.
	shortPages bool

	mu      sync.Mutex
	offsets []string
	limits  []string
}

func ilike(pattern, s string) bool {
	var re strings.Builder
	re.WriteString("(?is)^")
	for _, r := range pattern {
		switch r {
		case '%':
			re.WriteString(".*")
		case '_':
			re.WriteString(".")
		default:
			re.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	re.WriteString("$")
	return regexp.MustCompile(re.String()).MatchString(s)
}

func (s *searchServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	s.offsets = append(s.offsets, q.Get("offset"))
	s.limits = append(s.limits, q.Get("limit"))
	s.mu.Unlock()
	limit, offset := 20, 0
	if v := q.Get("limit"); v != "" {
		limit, _ = strconv.Atoi(v)
	}
	if v := q.Get("offset"); v != "" {
		offset, _ = strconv.Atoi(v)
	}
	if limit < 1 || limit > 100 || offset < 0 {
		writeJSON(w, 400, `{"message":"Input validation failed","code":"BAD_REQUEST"}`)
		return
	}
	var hits []SearchItem
	for _, it := range s.services {
		if term := strings.TrimSpace(q.Get("appName")); term == "" || ilike("%"+term+"%", it.AppName) {
			hits = append(hits, it)
		}
	}
	page := hits[min(offset, len(hits)):min(offset+limit, len(hits))]
	if s.shortPages && len(page) > 0 {
		page = page[:len(page)-1]
	}
	data, _ := json.Marshal(struct {
		Items []SearchItem `json:"items"`
		Total int          `json:"total"`
	}{page, len(hits)})
	writeJSON(w, 200, string(data))
}

func searchItems(kind TargetKind, appNames ...string) []SearchItem {
	out := make([]SearchItem, len(appNames))
	for i, n := range appNames {
		it := SearchItem{Name: "svc " + n, AppName: n, EnvironmentID: "env-1", SourceType: "docker"}
		if kind == KindCompose {
			it.ComposeID = fmt.Sprintf("cmp-%d", i)
		} else {
			it.ApplicationID = fmt.Sprintf("app-%d", i)
		}
		out[i] = it
	}
	return out
}

func TestFindByAppName(t *testing.T) {
	t.Parallel()
	many := make([]string, 0, 230)
	for i := range 230 {
		many = append(many, fmt.Sprintf("shop-pr-%d", i)) // "shop-pr-12" is among them, and 120-129 contain it
	}
	tests := []struct {
		name        string
		kind        TargetKind
		services    []string
		shortPages  bool
		find        string
		wantMatches []string // appNames
		wantCount   int      // candidates
		wantOffsets []string
	}{
		{
			name: "exact match among substring and case-insensitive hits", kind: KindApplication,
			services: []string{"shop-pr-123", "SHOP-PR-12", "shop-pr-12", "old-shop-pr-12-x", "blog"},
			find:     "shop-pr-12", wantMatches: []string{"shop-pr-12"}, wantCount: 4, wantOffsets: []string{""},
		},
		{
			name: "case-sensitive: capitals match only capitals", kind: KindCompose,
			services: []string{"shop-pr-12", "Shop-PR-12"},
			find:     "Shop-PR-12", wantMatches: []string{"Shop-PR-12"}, wantCount: 2, wantOffsets: []string{""},
		},
		{
			name: "underscore is a wildcard on the server, not here", kind: KindApplication,
			services: []string{"shop_a", "shopXa", "shop_ab"},
			find:     "shop_a", wantMatches: []string{"shop_a"}, wantCount: 3, wantOffsets: []string{""},
		},
		{
			name: "every page is read until total", kind: KindApplication,
			services: many, find: "shop-pr-12", wantMatches: []string{"shop-pr-12"}, wantCount: 11, wantOffsets: []string{""},
		},
		{
			name: "three pages", kind: KindCompose,
			services: many, find: "shop-pr-", wantMatches: nil, wantCount: 230, wantOffsets: []string{"", "100", "200"},
		},
		{
			// 61 services match; pages come one short, so the offset moves by
			// what came and the last page, empty, ends the loop.
			name: "short pages advance by what came", kind: KindApplication,
			services: many[:150], shortPages: true, find: "shop-pr-1", wantMatches: []string{"shop-pr-1"}, wantCount: 61 - 1,
			wantOffsets: []string{"", "60"},
		},
		{
			name: "nothing found", kind: KindApplication,
			services: []string{"blog"}, find: "shop", wantCount: 0, wantOffsets: []string{""},
		},
		{
			name: "two exact matches are both returned", kind: KindApplication,
			services: []string{"shop", "shop"}, find: "shop", wantMatches: []string{"shop", "shop"}, wantCount: 2,
			wantOffsets: []string{""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mux, _ := setup(t)
			srv := &searchServer{kind: tt.kind, services: searchItems(tt.kind, tt.services...), shortPages: tt.shortPages}
			mux.Handle("/api/"+string(tt.kind)+".search", srv)
			matches, candidates, err := c.FindByAppName(context.Background(), tt.kind, tt.find)
			if err != nil {
				t.Fatalf("FindByAppName() error = %v", err)
			}
			var got []string
			for _, m := range matches {
				if m.Kind != tt.kind || m.ID == "" || m.Target().Validate() != nil {
					t.Errorf("match %+v lacks its kind or id", m)
				}
				got = append(got, m.AppName)
			}
			if diff := cmp.Diff(tt.wantMatches, got); diff != "" {
				t.Errorf("FindByAppName() matches (-want +got):\n%s", diff)
			}
			if len(candidates) != tt.wantCount {
				t.Errorf("FindByAppName() candidates = %d, want %d", len(candidates), tt.wantCount)
			}
			srv.mu.Lock()
			defer srv.mu.Unlock()
			if diff := cmp.Diff(tt.wantOffsets, srv.offsets); diff != "" {
				t.Errorf("offsets sent (-want +got):\n%s", diff)
			}
			for _, l := range srv.limits {
				if l != "100" {
					t.Errorf("limit = %q, want 100", l)
				}
			}
		})
	}
}

func TestFindByAppNameErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		kind    TargetKind
		find    string
		answer  func(w http.ResponseWriter, n int)
		wantErr error  // errors.Is
		wantMsg string // substring
	}{
		{name: "empty name", kind: KindApplication, find: "", wantMsg: "the service name is empty"},
		{name: "spaces", kind: KindApplication, find: " shop", wantMsg: "leading or trailing spaces"},
		{name: "trailing newline", kind: KindCompose, find: "shop\n", wantMsg: "leading or trailing spaces"},
		{name: "control character inside", kind: KindCompose, find: "sh\x1bop", wantMsg: "control characters"},
		{name: "unknown kind", kind: "database", find: "shop", wantMsg: "unknown target kind"},
		{
			name: "401", kind: KindApplication, find: "shop", wantErr: ErrUnauthorized,
			answer: func(w http.ResponseWriter, _ int) { writeJSON(w, 401, `{"message":"Unauthorized"}`) },
		},
		{
			name: "a server whose total never ends", kind: KindApplication, find: "shop", wantErr: ErrTooManyCandidates,
			answer: func(w http.ResponseWriter, n int) {
				writeJSON(w, 200, fmt.Sprintf(`{"items":[{"applicationId":"a-%d","appName":"shop-%d"}],"total":1000000}`, n, n))
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mux, _ := setup(t)
			var mu sync.Mutex
			n := 0
			mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				n++
				k := n
				mu.Unlock()
				if tt.answer == nil {
					t.Errorf("request %s sent, want none", r.URL.Path)
					return
				}
				tt.answer(w, k)
			})
			_, _, err := c.FindByAppName(context.Background(), tt.kind, tt.find)
			if err == nil {
				t.Fatal("FindByAppName() error = nil, want an error")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("FindByAppName() error = %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("FindByAppName() error = %q, want it to contain %q", err, tt.wantMsg)
			}
		})
	}
}
