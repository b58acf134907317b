package probe

import (
	"net/url"
	"regexp"
	"strings"
)

// redactURL renders u without credentials, query or fragment: what may be recorded and shown.
func redactURL(u *url.URL) string {
	c := *u
	c.User = nil
	c.RawQuery, c.ForceQuery = "", false
	c.Fragment, c.RawFragment = "", ""
	return c.String()
}

// urlPattern finds URL-like text inside error messages.
var urlPattern = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^\s"'<>]+`)

// redactText rewrites every URL in s through redactURL; a URL that does not parse is replaced
// whole, since it cannot be cleaned reliably.
func redactText(s string) string {
	return urlPattern.ReplaceAllStringFunc(s, func(raw string) string {
		u, err := url.Parse(raw)
		if err != nil || u.Opaque != "" {
			return "<url>"
		}
		return redactURL(u)
	})
}

func clip(s string) string {
	if len(s) <= maxDetail {
		return s
	}
	return strings.ToValidUTF8(s[:maxDetail], "") + "..."
}
