package dokploytest

import (
	"fmt"
	"regexp"

	"github.com/launchplane/runtime-identity/internal/dokploy"
)

// References in env values, resolved at deploy time as Dokploy's prepareEnvironmentVariables
// resolves them (Dokploy/dokploy packages/server/src/utils/docker/utils.ts, read at commit
// 010a6e2a7627954b72e6632524db4d2c045d95a0, a canary later than the pinned 772b768; the
// reference document describes the same three sources at the pin): first every
// ${{project.KEY}} from the project's env, then every ${{environment.KEY}} from the
// environment's env, then every remaining ${{KEY}} from the service's own variables (their raw
// values). Each pattern is non-greedy up to the first "}}" and does not cross a line break. A
// reference with no value throws, which fails the deployment; the messages are Dokploy's.
var (
	projectRef     = regexp.MustCompile(`\$\{\{project\.(.*?)\}\}`)
	environmentRef = regexp.MustCompile(`\$\{\{environment\.(.*?)\}\}`)
	serviceRef     = regexp.MustCompile(`\$\{\{(.*?)\}\}`)
)

// resolveEnv parses the three dotenv texts with Dokploy's rules and returns the service's
// variables with their references resolved.
func resolveEnv(serviceEnv, projectEnv, environmentEnv string) (map[string]string, error) {
	projectVars := dokploy.ParseEnv(projectEnv)
	environmentVars := dokploy.ParseEnv(environmentEnv)
	serviceVars := dokploy.ParseEnv(serviceEnv)
	out := make(map[string]string, len(serviceVars))
	for _, k := range sortedKeys(serviceVars) {
		v, err := replaceRefs(serviceVars[k], projectRef, projectVars, "Invalid project environment variable: project.")
		if err != nil {
			return nil, err
		}
		if v, err = replaceRefs(v, environmentRef, environmentVars, "Invalid environment variable: environment."); err != nil {
			return nil, err
		}
		if v, err = replaceRefs(v, serviceRef, serviceVars, "Invalid service environment variable: "); err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, nil
}

// referenceError is Dokploy's error for a reference without a value.
type referenceError struct{ msg string }

func (e *referenceError) Error() string { return e.msg }

// replaceRefs replaces every match of re in v by the variable its first group names; the
// first one missing is an error naming it.
func replaceRefs(v string, re *regexp.Regexp, vars map[string]string, missingPrefix string) (string, error) {
	var missing *string
	out := re.ReplaceAllStringFunc(v, func(m string) string {
		if missing != nil {
			return m
		}
		ref := re.FindStringSubmatch(m)[1]
		if val, ok := vars[ref]; ok {
			return val
		}
		missing = &ref
		return m
	})
	if missing != nil {
		return "", &referenceError{msg: fmt.Sprint(missingPrefix, *missing)}
	}
	return out, nil
}
