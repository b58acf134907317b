package dokploy

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode"
)

// SearchOptions are the filters of application.search and compose.search this
// client sends. Dokploy matches each text filter as a case-insensitive
// substring (SQL ILIKE '%term%' on the trimmed term, so "_" and "%" act as
// wildcards) and pages with limit (1-100, default 20) and offset (Dokploy
// apps/dokploy/server/api/routers/application.ts and compose.ts, the search
// procedure; the same inputs in the pinned OpenAPI document).
type SearchOptions struct {
	AppName       string
	Limit, Offset int
}

func (o SearchOptions) query() url.Values {
	q := url.Values{}
	if o.AppName != "" {
		q.Set("appName", o.AppName)
	}
	if o.Limit > 0 {
		q.Set("limit", strconv.Itoa(min(o.Limit, maxSearchLimit)))
	}
	if o.Offset > 0 {
		q.Set("offset", strconv.Itoa(o.Offset))
	}
	return q
}

// maxSearchLimit is the largest page Dokploy's search serves.
const maxSearchLimit = 100

// SearchPage is one page of a search answer: {"items": [...], "total": n},
// where total counts every match, not only this page's.
type SearchPage struct {
	Items []SearchItem `json:"items"`
	Total int          `json:"total"`
}

// SearchItem is one service of a search answer: the columns Dokploy selects.
// ApplicationID and ApplicationStatus are set for an application, ComposeID
// and ComposeStatus for a compose service. Its strings are Dokploy's text as
// sent: clean them (SafeText) before logging.
type SearchItem struct {
	ApplicationID     string  `json:"applicationId"`
	ComposeID         string  `json:"composeId"`
	Name              string  `json:"name"`
	AppName           string  `json:"appName"`
	Description       *string `json:"description"`
	EnvironmentID     string  `json:"environmentId"`
	ApplicationStatus string  `json:"applicationStatus"`
	ComposeStatus     string  `json:"composeStatus"`
	SourceType        string  `json:"sourceType"`
	CreatedAt         string  `json:"createdAt"`
}

// Search lists applications matching the options, one page.
//
// Dokploy API: GET application.search
func (s *ApplicationService) Search(ctx context.Context, opts SearchOptions) (*SearchPage, error) {
	var p SearchPage
	if _, err := s.c.get(ctx, "application.search", opts.query(), &p); err != nil {
		return nil, fmt.Errorf("dokploy: search applications: %w", err)
	}
	return &p, nil
}

// Search lists compose services matching the options, one page.
//
// Dokploy API: GET compose.search
func (s *ComposeService) Search(ctx context.Context, opts SearchOptions) (*SearchPage, error) {
	var p SearchPage
	if _, err := s.c.get(ctx, "compose.search", opts.query(), &p); err != nil {
		return nil, fmt.Errorf("dokploy: search compose services: %w", err)
	}
	return &p, nil
}

// Candidate is a service a name search found. Name and AppName are Dokploy's
// text as sent: clean them (SafeText) before logging.
type Candidate struct {
	Kind    TargetKind
	ID      string
	Name    string
	AppName string
}

// Target returns the candidate as a Target.
func (c Candidate) Target() Target { return Target{Kind: c.Kind, ID: c.ID} }

// maxSearchPages bounds how many pages FindByAppName reads (10,000 services).
const maxSearchPages = 100

// ErrTooManyCandidates matches the error of FindByAppName when a name is so
// short that the search matches more services than it reads.
var ErrTooManyCandidates = errors.New("dokploy: the name matches too many services to list")

// FindByAppName finds the services of a kind whose appName is exactly
// appName (case-sensitive; Dokploy's appName is unique but may hold
// capitals). It reads every page of application.search or compose.search for
// appName, a case-insensitive substring search where "_" and "%" are
// wildcards, and returns the exact matches and, for messages, every service
// the search returned. A key whose role limits it to some services sees only
// those.
func (c *Client) FindByAppName(ctx context.Context, kind TargetKind, appName string) (matches, candidates []Candidate, err error) {
	if err := validAppName(appName); err != nil {
		return nil, nil, err
	}
	search := c.Application.Search
	switch kind {
	case KindApplication:
	case KindCompose:
		search = c.Compose.Search
	default:
		return nil, nil, fmt.Errorf("dokploy: unknown target kind %q", string(kind))
	}
	seen := map[string]bool{}
	for page, offset := 0, 0; ; page++ {
		if page == maxSearchPages {
			return nil, nil, fmt.Errorf("%w: more than %d services of kind %s match %q", ErrTooManyCandidates, len(candidates), kind, appName)
		}
		p, err := search(ctx, SearchOptions{AppName: appName, Limit: maxSearchLimit, Offset: offset})
		if err != nil {
			return nil, nil, fmt.Errorf("dokploy: find %s named %q: %w", kind, appName, err)
		}
		for _, it := range p.Items {
			id := it.ApplicationID
			if kind == KindCompose {
				id = it.ComposeID
			}
			if id == "" || seen[id] {
				continue // rows can shift between pages while services change
			}
			seen[id] = true
			cd := Candidate{Kind: kind, ID: id, Name: it.Name, AppName: it.AppName}
			candidates = append(candidates, cd)
			if it.AppName == appName {
				matches = append(matches, cd)
			}
		}
		offset += len(p.Items)
		if len(p.Items) == 0 || offset >= p.Total {
			return matches, candidates, nil
		}
	}
}

// validAppName rejects a name no appName can equal: Dokploy trims the search
// term, and an empty one lists every service.
func validAppName(s string) error {
	switch {
	case s == "":
		return errors.New("dokploy: the service name is empty")
	case strings.TrimSpace(s) != s:
		return errors.New("dokploy: the service name has leading or trailing spaces")
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return errors.New("dokploy: the service name contains control characters")
	}
	return nil
}
