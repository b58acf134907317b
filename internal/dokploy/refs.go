package dokploy

import (
	"regexp"
)

// Environment is the Dokploy environment a service belongs to, as the
// "environment" relation of application.one and compose.one carries it
// (findApplicationById / findComposeById load environment with its project:
// Dokploy packages/server/src/services/application.ts and compose.ts). Env
// arrives decrypted: never log an Environment.
type Environment struct {
	EnvironmentID string `json:"environmentId"`
	Name          string `json:"name"`
	// Env is the environment's shared dotenv text (${{environment.KEY}}).
	Env       string   `json:"env"`
	ProjectID string   `json:"projectId"`
	Project   *Project `json:"project"`
}

// Project is the Dokploy project a service's environment belongs to. Env
// arrives decrypted: never log a Project.
type Project struct {
	ProjectID string `json:"projectId"`
	Name      string `json:"name"`
	// Env is the project's shared dotenv text (${{project.KEY}}).
	Env string `json:"env"`
}

// sharedEnvs returns the project and environment env texts a service's
// env may reference. Versions before environments existed put the project
// on the service itself; either place counts.
func sharedEnvs(env *Environment, legacy *Project) (project, environment string) {
	if env != nil {
		environment = env.Env
		if env.Project != nil {
			project = env.Project.Env
		}
	}
	if project == "" && legacy != nil {
		project = legacy.Env
	}
	return project, environment
}

// The reference forms Dokploy resolves at deploy time, in its order: project,
// environment, then the service's own keys (prepareEnvironmentVariables in
// Dokploy packages/server/src/utils/docker/utils.ts; tests in
// apps/dokploy/__test__/env/environment.test.ts and
// rollback-environment.test.ts). As there, "." does not cross a line break
// and the shortest match wins.
var (
	projectRef     = regexp.MustCompile(`\$\{\{project\.(.*?)\}\}`)
	environmentRef = regexp.MustCompile(`\$\{\{environment\.(.*?)\}\}`)
	selfRef        = regexp.MustCompile(`\$\{\{(.*?)\}\}`)
)

// resolveRefs returns each variable of the dotenv text service with its
// references to the project env, the environment env and the service's own
// keys replaced, as Dokploy resolves them before handing env to a container.
// Where Dokploy would fail the deploy (a reference to a missing key) the
// reference is left as written.
func resolveRefs(service, project, environment string) map[string]string {
	svc := ParseEnv(service)
	proj, envVars := ParseEnv(project), ParseEnv(environment)
	out := make(map[string]string, len(svc))
	for k, v := range svc {
		v = replaceRefs(projectRef, v, proj)
		v = replaceRefs(environmentRef, v, envVars)
		v = replaceRefs(selfRef, v, svc)
		out[k] = v
	}
	return out
}

// replaceRefs replaces each match of re in s whose first group names a key of
// vars with that key's value.
func replaceRefs(re *regexp.Regexp, s string, vars map[string]string) string {
	if len(vars) == 0 {
		return s
	}
	return re.ReplaceAllStringFunc(s, func(m string) string {
		if v, ok := vars[re.FindStringSubmatch(m)[1]]; ok {
			return v
		}
		return m
	})
}

// addShared adds what a service's dotenv texts can pull in from the project
// and the environment: every value of both shared envs (they are secrets in
// their own right) and every value of the service texts with its references
// resolved, which is what the container sees.
func (s secretSet) addShared(project, environment string, texts ...string) {
	s.addEnv(project)
	s.addEnv(environment)
	for _, text := range texts {
		for k, v := range resolveRefs(text, project, environment) {
			if !isIdentityKey(k) {
				s.add(v)
			}
		}
	}
}
