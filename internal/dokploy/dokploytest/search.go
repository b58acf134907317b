package dokploytest

import (
	"math"
	"regexp"
	"sort"
	"strings"
)

// application.search and compose.search, as the routers in Dokploy/dokploy define them
// (apps/dokploy/server/api/routers/compose.ts search, read at commit
// 010a6e2a7627954b72e6632524db4d2c045d95a0; routers/application.ts search, the same code with
// three more columns, read at a later canary whose commit the source index does not name; the
// parameters match the pinned OpenAPI document, which gives no response shape):
//   - GET with optional text filters, limit 1-100 (default 20) and offset >= 0 (default 0),
//     both plain numbers.
//   - Each text filter, trimmed and ignored when empty, is ILIKE '%term%' on its column (so
//     "_" and "%" are wildcards and "\" escapes); q is the OR of those ILIKEs over name,
//     appName and description (application: also repository, owner, dockerImage). A null
//     column never matches. projectId and environmentId are equalities.
//   - The answer is {items, total}: items newest createdAt first with the columns the router
//     selects, total the count before paging.
//   - The caller sees only the services in its member's accessedServices (DenyService and
//     HideFromSearch model the two ways a service is missing from it; Dokploy issue #5361:
//     owners and admins are filtered too).

// searchFields are the inputs of kind's search procedure.
func searchFields(kind string) []field {
	text := []string{"q", "name", "appName", "description"}
	if kind == kindApplication {
		text = append(text, "repository", "owner", "dockerImage")
	}
	text = append(text, "projectId", "environmentId")
	fs := make([]field, 0, len(text)+2)
	for _, n := range text {
		fs = append(fs, field{name: n, kind: kString, optional: true})
	}
	return append(fs,
		field{name: "limit", kind: kNumber, optional: true, min: intp(1), max: intp(100), def: float64(20)},
		field{name: "offset", kind: kNumber, optional: true, min: intp(0), def: float64(0)},
	)
}

// searchColumns are the text columns q searches, by kind.
func (svc *service) searchColumns() map[string]nstr {
	cols := map[string]nstr{"name": some(svc.name), "appName": some(svc.appName), "description": svc.description}
	if svc.kind == kindApplication {
		cols["repository"], cols["owner"], cols["dockerImage"] = svc.repository, svc.owner, svc.dockerIm
	}
	return cols
}

func searchProcedure(kind string) func(s *Server, in map[string]any) (any, *trpcError) {
	return func(s *Server, in map[string]any) (any, *trpcError) {
		limit, offset := in["limit"].(float64), in["offset"].(float64)
		if limit != math.Trunc(limit) || offset != math.Trunc(offset) {
			// PostgreSQL refuses a fractional LIMIT or OFFSET; tRPC answers the exception 500.
			return nil, internalError()
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		var found []*service
		for _, id := range s.order {
			svc := s.services[id]
			if svc.kind == kind && !s.denied[id] && !s.hidden[id] && s.searchMatchLocked(svc, in) {
				found = append(found, svc)
			}
		}
		sort.SliceStable(found, func(a, b int) bool {
			if found[a].createdAt != found[b].createdAt {
				return found[a].createdAt > found[b].createdAt
			}
			return found[a].order > found[b].order
		})
		total := len(found)
		lo := min(int(offset), total)
		hi := min(lo+int(limit), total)
		items := make([]any, 0, hi-lo)
		for _, svc := range found[lo:hi] {
			items = append(items, searchItem(svc))
		}
		return map[string]any{"items": items, "total": total}, nil
	}
}

// searchMatchLocked applies the filters in in to svc; s.mu must be held.
func (s *Server) searchMatchLocked(svc *service, in map[string]any) bool {
	if v, ok := in["environmentId"].(string); ok && v != "" && svc.environmentID != v {
		return false
	}
	if v, ok := in["projectId"].(string); ok && v != "" {
		if e := s.environments[svc.environmentID]; e == nil || e.projectID != v {
			return false
		}
	}
	cols := svc.searchColumns()
	if q, ok := in["q"].(string); ok && strings.TrimSpace(q) != "" {
		hit := false
		for _, c := range cols {
			if c.valid && ilikeContains(c.s, strings.TrimSpace(q)) {
				hit = true
				break
			}
		}
		if !hit {
			return false
		}
	}
	for name, c := range cols {
		term, ok := in[name].(string)
		if !ok || strings.TrimSpace(term) == "" {
			continue
		}
		if !c.valid || !ilikeContains(c.s, strings.TrimSpace(term)) {
			return false
		}
	}
	return true
}

func searchItem(svc *service) map[string]any {
	if svc.kind == kindApplication {
		return map[string]any{
			"applicationId":     svc.id,
			"name":              svc.name,
			"appName":           svc.appName,
			"description":       svc.description.json(),
			"environmentId":     svc.environmentID,
			"applicationStatus": svc.status,
			"sourceType":        svc.sourceType,
			"createdAt":         svc.createdAt,
		}
	}
	return map[string]any{
		"composeId":     svc.id,
		"name":          svc.name,
		"appName":       svc.appName,
		"description":   svc.description.json(),
		"environmentId": svc.environmentID,
		"composeStatus": svc.status,
		"sourceType":    svc.sourceType,
		"createdAt":     svc.createdAt,
	}
}

// ilikeContains reports whether s matches PostgreSQL's s ILIKE '%' || term || '%': "%" is any
// run of characters, "_" any one character, "\" makes the next character literal, and the
// comparison ignores case.
func ilikeContains(s, term string) bool {
	// Dokploy's text arrives as JavaScript strings, where invalid UTF-8 has become U+FFFD.
	s, term = strings.ToValidUTF8(s, "\uFFFD"), strings.ToValidUTF8(term, "\uFFFD")
	return likePattern("%" + term + "%").MatchString(s)
}

// likePattern translates a LIKE pattern into an anchored, case-insensitive regexp.
func likePattern(p string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`(?is)\A`)
	escaped := false
	for _, r := range p {
		switch {
		case escaped:
			b.WriteString(regexp.QuoteMeta(string(r)))
			escaped = false
		case r == '\\':
			escaped = true
		case r == '%':
			b.WriteString(`.*`)
		case r == '_':
			b.WriteString(`.`)
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString(`\z`)
	return regexp.MustCompile(b.String())
}
