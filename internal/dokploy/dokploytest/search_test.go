package dokploytest

import (
	"net/http"
	"net/url"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// searchFixture adds services in a known order: later ones are newer.
func searchFixture(t *testing.T, s *Server) {
	t.Helper()
	for _, a := range []App{
		{ID: "a1", Name: "Shop", AppName: "shop-web", Description: "the shop front", Repository: "acme/shop", Owner: "acme", DockerImage: "ghcr.io/acme/shop"},
		{ID: "a2", Name: "shop preview 7", AppName: "shop-pr-7"},
		{ID: "a3", Name: "shop preview 17", AppName: "shop-pr-17", ProjectID: "p2"},
		{ID: "a4", Name: "Billing", AppName: "billing_api", Description: "100% uptime"},
		{ID: "a5", Name: "billingXapi", AppName: "billingXapi"},
	} {
		must(t, s.AddApplication(a))
	}
	must(t, s.AddCompose(Compose{ID: "c1", Name: "shop stack", AppName: "shop-stack", Description: "compose of the shop"}))
	must(t, s.AddCompose(Compose{ID: "c2", Name: "other", AppName: "other"}))
}

func search(t *testing.T, s *Server, kind string, query url.Values) (int, []string, map[string]any) {
	t.Helper()
	r := call(t, s, http.MethodGet, kind+".search", query, nil)
	if r.status != http.StatusOK {
		return r.status, nil, r.json(t).(map[string]any)
	}
	body := r.json(t).(map[string]any)
	var ids []string
	for _, it := range body["items"].([]any) {
		m := it.(map[string]any)
		if kind == kindApplication {
			ids = append(ids, m["applicationId"].(string))
		} else {
			ids = append(ids, m["composeId"].(string))
		}
	}
	return r.status, ids, body
}

func TestSearch(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, setup{})
	searchFixture(t, s)
	tests := []struct {
		name      string
		kind      string
		query     url.Values
		want      []string
		wantTotal int
	}{
		{name: "everything, newest first", kind: kindApplication, query: nil, want: []string{"a5", "a4", "a3", "a2", "a1"}, wantTotal: 5},
		{name: "appName substring", kind: kindApplication, query: q("appName", "shop-pr"), want: []string{"a3", "a2"}, wantTotal: 2},
		{name: "appName is a substring match, not exact", kind: kindApplication, query: q("appName", "shop-pr-7"), want: []string{"a2"}, wantTotal: 1},
		{name: "case-insensitive", kind: kindApplication, query: q("name", "SHOP PREVIEW"), want: []string{"a3", "a2"}, wantTotal: 2},
		{name: "underscore is any one character", kind: kindApplication, query: q("appName", "billing_api"), want: []string{"a5", "a4"}, wantTotal: 2},
		{name: "escaped underscore is literal", kind: kindApplication, query: q("appName", `billing\_api`), want: []string{"a4"}, wantTotal: 1},
		{name: "percent is any run", kind: kindApplication, query: q("appName", "shop%7"), want: []string{"a3", "a2"}, wantTotal: 2},
		{name: "the term is trimmed", kind: kindApplication, query: q("appName", "  shop-web  "), want: []string{"a1"}, wantTotal: 1},
		{name: "a blank term is no filter", kind: kindApplication, query: q("appName", "   "), want: []string{"a5", "a4", "a3", "a2", "a1"}, wantTotal: 5},
		{name: "q searches repository", kind: kindApplication, query: q("q", "acme/shop"), want: []string{"a1"}, wantTotal: 1},
		{name: "q searches description", kind: kindApplication, query: q("q", "uptime"), want: []string{"a4"}, wantTotal: 1},
		{name: "a null description never matches", kind: kindApplication, query: q("description", "%"), want: []string{"a4", "a1"}, wantTotal: 2},
		{name: "owner and dockerImage", kind: kindApplication, query: q("owner", "acme", "dockerImage", "ghcr.io"), want: []string{"a1"}, wantTotal: 1},
		{name: "filters combine with AND", kind: kindApplication, query: q("name", "shop", "appName", "pr"), want: []string{"a3", "a2"}, wantTotal: 2},
		{name: "projectId", kind: kindApplication, query: q("projectId", "p2"), want: []string{"a3"}, wantTotal: 1},
		{name: "environmentId", kind: kindApplication, query: q("environmentId", DefaultEnvironmentID, "appName", "shop"), want: []string{"a2", "a1"}, wantTotal: 2},
		{name: "limit pages, total counts all", kind: kindApplication, query: q("limit", "2"), want: []string{"a5", "a4"}, wantTotal: 5},
		{name: "offset", kind: kindApplication, query: q("limit", "2", "offset", "4"), want: []string{"a1"}, wantTotal: 5},
		{name: "offset past the end", kind: kindApplication, query: q("offset", "9"), want: nil, wantTotal: 5},
		{name: "no match", kind: kindApplication, query: q("appName", "nothing"), want: nil, wantTotal: 0},
		{name: "compose", kind: kindCompose, query: q("q", "shop"), want: []string{"c1"}, wantTotal: 1},
		{name: "compose has no repository filter", kind: kindCompose, query: q("repository", "x"), want: []string{"c2", "c1"}, wantTotal: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, ids, body := search(t, s, tt.kind, tt.query)
			if status != http.StatusOK {
				t.Fatalf("search = %d %v, want 200", status, body)
			}
			if diff := cmp.Diff(tt.want, ids); diff != "" {
				t.Errorf("search(%v) ids (-want +got):\n%s", tt.query, diff)
			}
			if body["total"] != float64(tt.wantTotal) {
				t.Errorf("search(%v) total = %v, want %d", tt.query, body["total"], tt.wantTotal)
			}
		})
	}
}

func TestSearchItemColumns(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, setup{})
	searchFixture(t, s)
	_, _, body := search(t, s, kindApplication, q("appName", "shop-web"))
	item := body["items"].([]any)[0].(map[string]any)
	delete(item, "createdAt")
	want := map[string]any{"applicationId": "a1", "name": "Shop", "appName": "shop-web", "description": "the shop front",
		"environmentId": DefaultEnvironmentID, "applicationStatus": "done", "sourceType": "docker"}
	if diff := cmp.Diff(want, item); diff != "" {
		t.Errorf("application.search item (-want +got):\n%s", diff)
	}
	_, _, body = search(t, s, kindCompose, q("appName", "other"))
	item = body["items"].([]any)[0].(map[string]any)
	delete(item, "createdAt")
	want = map[string]any{"composeId": "c2", "name": "other", "appName": "other", "description": nil,
		"environmentId": DefaultEnvironmentID, "composeStatus": "done", "sourceType": "raw"}
	if diff := cmp.Diff(want, item); diff != "" {
		t.Errorf("compose.search item (-want +got):\n%s", diff)
	}
}

// TestSearchAccess checks a service outside the caller's accessedServices is not listed.
func TestSearchAccess(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, setup{})
	searchFixture(t, s)
	s.DenyService("a2")
	s.HideFromSearch("a3")
	_, ids, body := search(t, s, kindApplication, q("appName", "shop"))
	if diff := cmp.Diff([]string{"a1"}, ids); diff != "" || body["total"] != float64(1) {
		t.Errorf("search with a2 denied and a3 hidden (-want +got):\n%s total %v", diff, body["total"])
	}
	// A hidden service is still served by one.
	if got := one(t, s, kindApplication, "a3")["appName"]; got != "shop-pr-17" {
		t.Errorf("one(hidden a3).appName = %v, want it served", got)
	}
}

func TestSearchValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		query      url.Values
		wantStatus int
		want       string // body, "" to check only the status
	}{
		{name: "limit 0", query: q("limit", "0"), wantStatus: 400, want: `{"message":"Input validation failed","code":"BAD_REQUEST",
			"issues":[{"origin":"number","code":"too_small","minimum":1,"inclusive":true,"path":["limit"],"message":"Too small: expected number to be >=1"}],
			"data":{"code":"BAD_REQUEST","httpStatus":400,"path":"application.search",
				"zodError":{"formErrors":[],"fieldErrors":{"limit":["Too small: expected number to be >=1"]}}}}`},
		{name: "limit 101", query: q("limit", "101"), wantStatus: 400, want: `{"message":"Input validation failed","code":"BAD_REQUEST",
			"issues":[{"origin":"number","code":"too_big","maximum":100,"inclusive":true,"path":["limit"],"message":"Too big: expected number to be <=100"}],
			"data":{"code":"BAD_REQUEST","httpStatus":400,"path":"application.search",
				"zodError":{"formErrors":[],"fieldErrors":{"limit":["Too big: expected number to be <=100"]}}}}`},
		{name: "negative offset", query: q("offset", "-1"), wantStatus: 400, want: `{"message":"Input validation failed","code":"BAD_REQUEST",
			"issues":[{"origin":"number","code":"too_small","minimum":0,"inclusive":true,"path":["offset"],"message":"Too small: expected number to be >=0"}],
			"data":{"code":"BAD_REQUEST","httpStatus":400,"path":"application.search",
				"zodError":{"formErrors":[],"fieldErrors":{"offset":["Too small: expected number to be >=0"]}}}}`},
		{name: "limit not a number", query: q("limit", "ten"), wantStatus: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// The contract rejects these too; the violation is recorded, not failed.
			s, _ := newServer(t, setup{noT: true})
			searchFixture(t, s)
			r := call(t, s, http.MethodGet, "application.search", tt.query, nil)
			if r.status != tt.wantStatus {
				t.Fatalf("status = %d %s, want %d", r.status, r.body, tt.wantStatus)
			}
			if tt.want != "" {
				if diff := cmp.Diff(mustJSON(t, tt.want), r.json(t)); diff != "" {
					t.Errorf("body (-want +got):\n%s", diff)
				}
			}
			if got := len(s.Violations()); got != 1 {
				t.Errorf("len(Violations()) = %d, want 1", got)
			}
		})
	}
	// A fractional limit fits the contract (a number) but PostgreSQL refuses it.
	s, _ := newServer(t, setup{})
	searchFixture(t, s)
	if r := call(t, s, http.MethodGet, "application.search", q("limit", "1.5"), nil); r.status != http.StatusInternalServerError {
		t.Errorf("limit 1.5 = %d %s, want 500", r.status, r.body)
	}
}

func TestLikePattern(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"%abc%", "xxABCxx", true},
		{"%a_c%", "abc", true},
		{"%a_c%", "ac", false},
		{`%a\_c%`, "a_c", true},
		{`%a\_c%`, "abc", false},
		{`%100\%%`, "100% up", true},
		{`%100\%%`, "1000 up", false},
		{"%.*%", "abc", false},
		{"%(%", "a(b", true},
		{"%line%", "first\nline", true},
		{`%a\%`, "xa%", true},
		{`%a\%`, "xa%b", false},
	}
	for _, tt := range tests {
		if got := likePattern(tt.pattern).MatchString(tt.s); got != tt.want {
			t.Errorf("likePattern(%q).MatchString(%q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

func FuzzLikePattern(f *testing.F) {
	f.Add("shop", "Shop-Web")
	f.Add(`a\_%`, "a_b")
	f.Add(`\`, `\`)
	f.Fuzz(func(t *testing.T, term, s string) {
		// Dokploy's text is JavaScript strings: valid Unicode. (Halves of one character put
		// side by side would form it, so invalid input has no such property.)
		if !utf8.ValidString(term) || !utf8.ValidString(s) {
			t.Skip()
		}
		// A term without wildcards or escapes matches exactly where it is a case-insensitive
		// substring.
		plain := true
		for _, r := range term {
			if r == '%' || r == '_' || r == '\\' {
				plain = false
			}
		}
		if plain && !ilikeContains(s+term+s, term) {
			t.Fatalf("%q does not match %q", term, s+term+s)
		}
	})
}
