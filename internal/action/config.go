package action

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/launchplane/runtime-identity/internal/identity"
)

// Mode is what a run does.
type Mode string

// The modes (DESIGN.md section 4).
const (
	ModeDeploy Mode = "deploy"
	ModeInject Mode = "inject"
	ModeVerify Mode = "verify"
	ModeRender Mode = "render"
	// ModeInventory probes every lane of a fleet (internal/inventory), with inputs of its own.
	ModeInventory Mode = "inventory"
)

// ConfigError is a bad input: the run stops with exit code 2 before writing anywhere.
type ConfigError struct {
	Input   string // the input's name, e.g. "verify-timeout"
	Problem string // what is wrong and what would be valid
}

func (e *ConfigError) Error() string {
	if e.Input == "" {
		return e.Problem
	}
	return "input " + e.Input + ": " + e.Problem
}

// ConfigErrors collects every bad input so one run reports them all.
type ConfigErrors []*ConfigError

func (es ConfigErrors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Config is a run's whole configuration, parsed and checked.
type Config struct {
	Mode Mode

	// Fields holds the explicit identity field inputs by contract field name.
	Fields       map[string]string
	IdentityJSON string
	IdentityFile string
	// IdentityOut is a file to write the expected identity's canonical JSON to.
	IdentityOut string

	HealthURL       string
	BaseURL         string
	RequireIdentity bool
	VerifyTimeout   time.Duration
	Confirmations   int // 0 means auto

	DokployURL    string
	DokployAPIKey string
	ApplicationID string
	ComposeID     string
	// ApplicationName and ComposeName name the target by its Dokploy appName instead; the
	// inject step resolves them.
	ApplicationName string
	ComposeName     string
	Redeploy        bool
	RolloutTimeout  time.Duration
	// Rollback: on-failure is rollback.
	Rollback bool

	GitHubToken       string
	GitHubDeployment  bool
	GitHubEnvironment string
	EnvironmentURL    string
	CommitStatus      bool

	LaunchplaneURL      string
	LaunchplaneAudience string
	LaunchplaneToken    string
	LaunchplaneReport   bool
}

// HasDokployTarget reports whether a Dokploy target was named, by id or by appName.
func (c *Config) HasDokployTarget() bool {
	return c.ApplicationID != "" || c.ComposeID != "" || c.ApplicationName != "" || c.ComposeName != ""
}

// parseConfig reads every input through get (absent and empty are the same) and checks them all.
func parseConfig(get func(string) string) (*Config, error) {
	var errs ConfigErrors
	bad := func(input, format string, args ...any) {
		errs = append(errs, &ConfigError{Input: input, Problem: fmt.Sprintf(format, args...)})
	}
	val := func(name string) string {
		v := strings.TrimSpace(get(name))
		if v == "" {
			in, _ := lookupInput(name)
			return in.Default
		}
		return v
	}
	boolean := func(name string) bool {
		switch v := val(name); v {
		case "true":
			return true
		case "false":
			return false
		default:
			bad(name, "%s is not a boolean; use true or false", show(v))
			return false
		}
	}
	duration := func(name string) time.Duration {
		v := val(name)
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			bad(name, "%s is not a positive Go duration; use a value such as 90s, 3m or 10m", show(v))
			return 0
		}
		return d
	}
	c := &Config{Fields: map[string]string{}}
	for _, f := range identity.Fields {
		if f.Input == "" {
			continue
		}
		if v := val(f.Input); v != "" {
			c.Fields[f.Name] = v
		}
	}
	c.IdentityJSON = val("identity-json")
	c.IdentityFile = val("identity-file")
	c.IdentityOut = val("identity-out")
	if c.IdentityJSON != "" && c.IdentityFile != "" {
		bad("identity-file", "give identity-json or identity-file, not both")
	}
	c.HealthURL = checkURL(val("health-url"), "health-url", bad)
	c.BaseURL = strings.TrimRight(checkURL(val("base-url"), "base-url", bad), "/")
	if c.BaseURL == "" && c.HealthURL != "" {
		u, _ := url.Parse(c.HealthURL)
		c.BaseURL = u.Scheme + "://" + u.Host
	}
	c.RequireIdentity = boolean("require-identity")
	c.VerifyTimeout = duration("verify-timeout")
	switch v := val("confirmations"); v {
	case "auto":
	default:
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			bad("confirmations", "%s is not valid; use auto or a whole number from 1 to 100", show(v))
		}
		c.Confirmations = n
	}
	c.DokployURL = checkURL(val("dokploy-url"), "dokploy-url", bad)
	c.DokployAPIKey = val("dokploy-api-key")
	c.ApplicationID = val("dokploy-application-id")
	c.ComposeID = val("dokploy-compose-id")
	c.ApplicationName = val("dokploy-application-name")
	c.ComposeName = val("dokploy-compose-name")
	c.Redeploy = boolean("redeploy")
	switch v := val("on-failure"); v {
	case "none":
	case "rollback":
		c.Rollback = true
	default:
		bad("on-failure", "%s is not valid; use none or rollback", show(v))
	}
	c.RolloutTimeout = duration("rollout-timeout")
	c.GitHubToken = val("github-token")
	c.GitHubDeployment = boolean("github-deployment")
	c.GitHubEnvironment = val("github-environment")
	c.EnvironmentURL = checkURL(val("environment-url"), "environment-url", bad)
	c.CommitStatus = boolean("commit-status")
	c.LaunchplaneURL = checkURL(val("launchplane-url"), "launchplane-url", bad)
	c.LaunchplaneAudience = val("launchplane-audience")
	c.LaunchplaneToken = val("launchplane-token")
	c.LaunchplaneReport = boolean("launchplane-report")

	for _, sec := range []struct{ input, v string }{{"dokploy-api-key", c.DokployAPIKey}, {"github-token", c.GitHubToken}, {"launchplane-token", c.LaunchplaneToken}} {
		// A secret is never shown, not even quoted: say what is wrong with it only.
		if strings.IndexFunc(sec.v, unicode.IsControl) >= 0 {
			bad(sec.input, "contains a line break or another control character; pass the secret alone, on one line")
		} else if strings.ContainsAny(sec.v, " \t") {
			bad(sec.input, "contains a space; pass the secret alone, without a scheme such as Bearer")
		}
	}
	if v := c.GitHubEnvironment; v != "" {
		if strings.IndexFunc(v, unicode.IsControl) >= 0 || utf8.RuneCountInString(v) > 255 {
			bad("github-environment", "%s is not a GitHub environment name; use at most 255 characters on one line, such as shop/prod", show(v))
		}
	}
	if v := c.Fields["deployment_record_id"]; v != "" && c.LaunchplaneURL != "" && !validRecordID(v) {
		bad("deployment-record-id", "%s cannot name a Launchplane deployment record; use letters, digits and . _ : - (not only dots), such as deployment-20260510T141500Z-shop-prod", show(v))
	}
	for _, id := range []struct{ input, v string }{{"dokploy-application-id", c.ApplicationID}, {"dokploy-compose-id", c.ComposeID}} {
		if id.v != "" && !validID(id.v) {
			bad(id.input, "%s is not a Dokploy id; ids are letters, digits, '-' and '_'", show(id.v))
		}
	}
	switch m := Mode(val("mode")); m {
	case "":
		c.Mode = ModeVerify
		if c.HasDokployTarget() {
			c.Mode = ModeDeploy
		}
	case ModeInventory:
		// Its inputs are the inventory's own, checked by internal/inventory.
		c.Mode = m
		if len(errs) > 0 {
			return nil, errs
		}
		return c, nil
	case ModeDeploy, ModeInject, ModeVerify, ModeRender:
		c.Mode = m
	default:
		bad("mode", "%s is not a mode; use deploy, inject, verify, render or inventory", show(string(m)))
		// Nothing else can be checked against a mode that is not one.
		return nil, errs
	}
	var named []string
	for _, t := range []struct{ input, v string }{
		{"dokploy-application-id", c.ApplicationID}, {"dokploy-compose-id", c.ComposeID},
		{"dokploy-application-name", c.ApplicationName}, {"dokploy-compose-name", c.ComposeName},
	} {
		if t.v != "" {
			named = append(named, t.input)
		}
	}
	if len(named) > 1 {
		bad(named[len(named)-1], "give exactly one Dokploy target; %s name one each (use one of dokploy-application-id, dokploy-compose-id, dokploy-application-name, dokploy-compose-name)", strings.Join(named, " and "))
	}
	for _, n := range []struct{ input, v string }{{"dokploy-application-name", c.ApplicationName}, {"dokploy-compose-name", c.ComposeName}} {
		if n.v != "" && !validAppName(n.v) {
			bad(n.input, "%s is not a Dokploy appName; use 1 to 63 letters, digits, '.', '_' and '-', such as shop-pr-42", show(n.v))
		}
	}
	needsDokploy := c.Mode == ModeDeploy || c.Mode == ModeInject
	if needsDokploy {
		if !c.HasDokployTarget() {
			bad("dokploy-application-id", "mode %s needs a Dokploy target: set dokploy-application-id or dokploy-compose-id (or name it with dokploy-application-name or dokploy-compose-name)", c.Mode)
		}
		if val("dokploy-url") == "" {
			bad("dokploy-url", "mode %s needs the Dokploy instance URL, such as https://dokploy.example.com", c.Mode)
		}
		if c.DokployAPIKey == "" {
			bad("dokploy-api-key", "mode %s needs a Dokploy API key (pass a secret: ${{ secrets.DOKPLOY_API_KEY }})", c.Mode)
		}
	} else if c.HasDokployTarget() && c.Mode != ModeRender {
		bad("mode", "mode %s does not use a Dokploy target; remove the dokploy-application-* or dokploy-compose-* input, or use mode deploy or inject", c.Mode)
	}
	if c.Rollback && c.Mode != ModeDeploy {
		bad("on-failure", "rollback needs mode deploy: only a deploy this step made can be rolled back; use none")
	}
	if c.Rollback && (c.ComposeID != "" || c.ComposeName != "") {
		bad("on-failure", "Dokploy has no rollbacks for compose services; use none with a compose target")
	}
	if c.RequireIdentity && (c.Mode == ModeInject || c.Mode == ModeRender) {
		bad("require-identity", "mode %s never verifies the tenant, so require-identity: true has nothing to require; use mode deploy or verify, or false", c.Mode)
	}
	// With launchplane-url and no record id, the lane product/instance is read from Launchplane,
	// URLs included.
	laneRead := c.LaunchplaneURL != "" && c.Fields["deployment_record_id"] == ""
	if c.Mode == ModeVerify && c.HealthURL == "" && c.BaseURL == "" && !laneRead {
		bad("health-url", "mode verify needs the tenant's health-url (or base-url), such as https://app.example.com/api/health, or launchplane-url with product and instance to read the lane's")
	}
	if laneRead && c.Fields["product"] == "" {
		bad("product", "launchplane-url reads the expected identity from a deployment record (set deployment-record-id) or from the lane: set product and instance (the Launchplane environment, such as prod; pull_request events default to pr-<number>)")
	}
	if c.LaunchplaneReport && c.LaunchplaneURL == "" {
		bad("launchplane-report", "reporting to Launchplane needs launchplane-url")
	}
	if c.LaunchplaneReport && c.Mode != ModeVerify && c.Mode != ModeDeploy {
		bad("launchplane-report", "mode %s never verifies, so there is nothing to report; use mode verify or deploy, or false", c.Mode)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return c, nil
}

// show quotes an input value for an error message, cut short and with control characters escaped.
func show(v string) string {
	if len(v) > 80 {
		v = v[:80] + "..."
	}
	return strconv.Quote(v)
}

// validRecordID reports whether s can name a Launchplane deployment record: it becomes one
// segment of a URL path (GET /v1/deployments/{record_id}), so no slash, no query or fragment
// characters, no percent escapes, and not a dot segment, which a URL resolves away.
func validRecordID(s string) bool {
	if len(s) > 256 || strings.Trim(s, ".") == "" {
		return false
	}
	for _, r := range s {
		if !(r == '-' || r == '_' || r == '.' || r == ':' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// validAppName reports whether s can be a Dokploy appName: 1 to 63 letters, digits, '.', '_'
// and '-' (Dokploy's appName input rule, apps/dokploy/server/api/routers/application.ts reload).
func validAppName(s string) bool {
	if len(s) > 63 {
		return false
	}
	for _, r := range s {
		if !(r == '-' || r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return s != ""
}

func validID(s string) bool {
	if len(s) > 128 {
		return false
	}
	for _, r := range s {
		if !(r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// urlExamples shows a valid value of each URL input.
var urlExamples = map[string]string{
	"health-url":      "https://app.example.com/api/health",
	"base-url":        "https://app.example.com",
	"environment-url": "https://app.example.com",
	"dokploy-url":     "https://dokploy.example.com",
	"launchplane-url": "https://launchplane.example.com",
}

// checkURL returns v when it is an absolute http(s) URL without credentials, else reports it.
func checkURL(v, input string, bad func(string, string, ...any)) string {
	if v == "" {
		return ""
	}
	u, err := url.Parse(v)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https"):
		bad(input, "%s is not an absolute http or https URL, such as %s", show(redactURL(v)), urlExamples[input])
	case u.User != nil:
		bad(input, "the URL carries credentials; pass secrets through their own inputs, never in a URL")
	default:
		return v
	}
	return ""
}

// redactURL keeps a URL's shape for an error message but drops its query and credentials.
func redactURL(v string) string {
	if i := strings.IndexAny(v, "?#"); i >= 0 {
		v = v[:i]
	}
	if i := strings.Index(v, "@"); i >= 0 {
		if j := strings.Index(v, "://"); j >= 0 && j < i {
			v = v[:j+3] + "***@" + v[i+1:]
		}
	}
	return v
}

// readIdentityFile reads identity-file, naming the input in any error.
func readIdentityFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, &ConfigError{Input: "identity-file", Problem: fmt.Sprintf("cannot read %s: %v", show(path), err)}
	}
	return b, nil
}
