package dokploytest

import (
	"net/http"
	"sort"
	"strings"
)

// procedure is one implemented tRPC procedure.
type procedure struct {
	method string
	fields []field
	handle func(s *Server, in map[string]any) (any, *trpcError)
}

var (
	deployFields = func(idKey string) []field {
		return []field{
			{name: idKey, kind: kString, min: intp(1)},
			{name: "title", kind: kString, optional: true},
			{name: "description", kind: kString, optional: true},
		}
	}
	procedures = map[string]procedure{
		"application.one": {http.MethodGet, []field{{name: "applicationId", kind: kString, min: intp(1)}},
			func(s *Server, in map[string]any) (any, *trpcError) {
				return s.withService(kindApplication, in["applicationId"], func(svc *service) (any, *trpcError) {
					out := s.appJSON(svc)
					svc.afterRead()
					return out, nil
				})
			}},
		"application.saveEnvironment": {http.MethodPost, []field{
			{name: "applicationId", kind: kString},
			{name: "env", kind: kString, nullable: true},
			{name: "buildArgs", kind: kString, nullable: true},
			{name: "buildSecrets", kind: kString, nullable: true},
			{name: "createEnvFile", kind: kBool},
		}, func(s *Server, in map[string]any) (any, *trpcError) {
			return s.withService(kindApplication, in["applicationId"], func(svc *service) (any, *trpcError) {
				svc.env = nstrOf(in["env"])
				svc.buildArgs = nstrOf(in["buildArgs"])
				svc.buildSecrets = nstrOf(in["buildSecrets"])
				svc.createEnvFile = in["createEnvFile"].(bool)
				svc.afterWrite()
				return true, nil
			})
		}},
		"application.update": {http.MethodPost, []field{
			{name: "applicationId", kind: kString, min: intp(1)},
			{name: "name", kind: kString, optional: true, min: intp(1)},
			{name: "env", kind: kString, optional: true, nullable: true},
			{name: "buildArgs", kind: kString, optional: true, nullable: true},
			{name: "buildSecrets", kind: kString, optional: true, nullable: true},
			{name: "createEnvFile", kind: kBool, optional: true},
			{name: "replicas", kind: kInt, optional: true, min: intp(1)},
		}, func(s *Server, in map[string]any) (any, *trpcError) {
			return s.withService(kindApplication, in["applicationId"], func(svc *service) (any, *trpcError) {
				if v, ok := in["name"]; ok {
					svc.name = v.(string)
				}
				if v, ok := in["buildArgs"]; ok {
					svc.buildArgs = nstrOf(v)
				}
				if v, ok := in["buildSecrets"]; ok {
					svc.buildSecrets = nstrOf(v)
				}
				if v, ok := in["createEnvFile"]; ok {
					svc.createEnvFile = v.(bool)
				}
				if v, ok := in["replicas"]; ok {
					svc.replicas = v.(int)
				}
				if v, ok := in["env"]; ok {
					svc.env = nstrOf(v)
					svc.afterWrite()
				}
				return true, nil
			})
		}},
		"application.deploy":   {http.MethodPost, deployFields("applicationId"), deployHandler(kindApplication, "deploy")},
		"application.redeploy": {http.MethodPost, deployFields("applicationId"), deployHandler(kindApplication, "redeploy")},
		"compose.one": {http.MethodGet, []field{{name: "composeId", kind: kString, min: intp(1)}},
			func(s *Server, in map[string]any) (any, *trpcError) {
				return s.withService(kindCompose, in["composeId"], func(svc *service) (any, *trpcError) {
					out := s.composeJSON(svc)
					svc.afterRead()
					return out, nil
				})
			}},
		"compose.update": {http.MethodPost, []field{
			{name: "composeId", kind: kString},
			{name: "name", kind: kString, optional: true, min: intp(1)},
			{name: "env", kind: kString, optional: true, nullable: true},
			{name: "composeFile", kind: kString, optional: true},
		}, func(s *Server, in map[string]any) (any, *trpcError) {
			return s.withService(kindCompose, in["composeId"], func(svc *service) (any, *trpcError) {
				if v, ok := in["name"]; ok {
					svc.name = v.(string)
				}
				if v, ok := in["composeFile"]; ok {
					svc.composeFile = v.(string)
				}
				if v, ok := in["env"]; ok {
					svc.env = nstrOf(v)
					svc.afterWrite()
				}
				return s.composeRow(svc), nil
			})
		}},
		"compose.saveEnvironment": {http.MethodPost, []field{
			{name: "composeId", kind: kString},
			{name: "env", kind: kString, nullable: true},
			{name: "createEnvFile", kind: kBool, optional: true},
		}, func(s *Server, in map[string]any) (any, *trpcError) {
			return s.withService(kindCompose, in["composeId"], func(svc *service) (any, *trpcError) {
				svc.env = nstrOf(in["env"])
				if v, ok := in["createEnvFile"]; ok {
					svc.createEnvFile = v.(bool)
				}
				svc.afterWrite()
				return true, nil
			})
		}},
		"compose.deploy":   {http.MethodPost, deployFields("composeId"), deployHandler(kindCompose, "deploy")},
		"compose.redeploy": {http.MethodPost, deployFields("composeId"), deployHandler(kindCompose, "redeploy")},
		"deployment.all": {http.MethodGet, []field{{name: "applicationId", kind: kString, min: intp(1)}},
			func(s *Server, in map[string]any) (any, *trpcError) {
				return s.withService(kindApplication, in["applicationId"], func(svc *service) (any, *trpcError) {
					return rowsJSON(s.listRowsLocked(svc)), nil
				})
			}},
		"deployment.allByCompose": {http.MethodGet, []field{{name: "composeId", kind: kString, min: intp(1)}},
			func(s *Server, in map[string]any) (any, *trpcError) {
				return s.withService(kindCompose, in["composeId"], func(svc *service) (any, *trpcError) {
					return rowsJSON(s.listRowsLocked(svc)), nil
				})
			}},
		"deployment.readLogs": {http.MethodGet, []field{
			{name: "deploymentId", kind: kString, min: intp(1)},
			{name: "tail", kind: kInt, optional: true, min: intp(1), max: intp(10000), def: 100},
		}, func(s *Server, in map[string]any) (any, *trpcError) {
			s.mu.Lock()
			defer s.mu.Unlock()
			r := s.rows[in["deploymentId"].(string)]
			if r == nil {
				return nil, notFound("Deployment")
			}
			if s.denied[r.svc.id] {
				return nil, accessDenied()
			}
			lines := r.log
			if n := in["tail"].(int); len(lines) > n {
				lines = lines[len(lines)-n:]
			}
			return strings.Join(lines, "\n"), nil
		}},
		"deployment.allByType": {http.MethodGet, []field{
			{name: "id", kind: kString, min: intp(1)},
			{name: "type", kind: kEnum, values: deploymentTypes},
		}, allByTypeProcedure},
		"rollback.rollback":  {http.MethodPost, []field{{name: "rollbackId", kind: kString, min: intp(1)}}, rollbackProcedure},
		"rollback.delete":    {http.MethodPost, []field{{name: "rollbackId", kind: kString, min: intp(1)}}, rollbackDeleteProcedure},
		"application.search": {http.MethodGet, searchFields(kindApplication), searchProcedure(kindApplication)},
		"compose.search":     {http.MethodGet, searchFields(kindCompose), searchProcedure(kindCompose)},
		"deployment.queueList": {http.MethodGet, nil, func(s *Server, _ map[string]any) (any, *trpcError) {
			s.mu.Lock()
			defer s.mu.Unlock()
			out := []any{}
			for _, j := range s.jobs {
				out = append(out, j.json())
			}
			return out, nil
		}},
	}
)

// withService runs f on the service of kind with id under s.mu, or answers 404.
func (s *Server) withService(kind string, id any, f func(*service) (any, *trpcError)) (any, *trpcError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	svc := s.services[id.(string)]
	if s.denied[id.(string)] {
		return nil, accessDenied()
	}
	if svc == nil || svc.kind != kind {
		if kind == kindApplication {
			return nil, notFound("Application")
		}
		return nil, notFound("Compose")
	}
	return f(svc)
}

func deployHandler(kind, typ string) func(s *Server, in map[string]any) (any, *trpcError) {
	idKey := "applicationId"
	if kind == kindCompose {
		idKey = "composeId"
	}
	return func(s *Server, in map[string]any) (any, *trpcError) {
		return s.withService(kind, in[idKey], func(svc *service) (any, *trpcError) {
			title, _ := in["title"].(string)
			description, _ := in["description"].(string)
			if title == "" {
				title = "Manual deployment"
				if typ == "redeploy" {
					title = "Rebuild deployment"
				}
			}
			s.enqueueLocked(svc, typ, title, description)
			if kind == kindApplication {
				return emptyBody{}, nil
			}
			msg := "Deployment queued"
			if typ == "redeploy" {
				msg = "Redeployment queued"
			}
			return map[string]any{"success": true, "message": msg, "composeId": svc.id}, nil
		})
	}
}

func rowsJSON(rows []*row) []any {
	out := make([]any, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.json())
	}
	return out
}

// rowsUnordered lists rows as one's deployments relation does: in no promised order (here,
// oldest first, unlike deployment.all).
func (s *Server) rowsUnorderedLocked(svc *service) []any {
	rows := s.listRowsLocked(svc)
	sort.SliceStable(rows, func(a, b int) bool { return rows[a].seq < rows[b].seq })
	return rowsJSON(rows)
}

// environmentJSONLocked is the environment relation of a service, with its project, as
// Dokploy's findApplicationById and findComposeById load it (environment: {with: {project:
// true}}; Dokploy/dokploy packages/server/src/services/application.ts at
// 0015f081df77f52d195abfa827a2ac8e626684e5, and compose.ts). The columns follow
// packages/server/src/db/schema/environment.ts (1fcf16fa1d720dcf845fecccbe33b538c4245548) and
// project.ts (010a6e2a7627954b72e6632524db4d2c045d95a0); both carry the env that the service's
// references read. s.mu must be held.
func (s *Server) environmentJSONLocked(id string) map[string]any {
	e := s.environments[id]
	if e == nil {
		return nil
	}
	p := s.projects[e.projectID]
	description := any(nil)
	if e.id == DefaultEnvironmentID {
		description = "Production environment"
	}
	return map[string]any{
		"environmentId": e.id,
		"name":          e.name,
		"description":   description,
		"createdAt":     e.createdAt,
		"env":           e.env,
		"projectId":     e.projectID,
		"isDefault":     e.isDefault,
		"project": map[string]any{
			"projectId":      p.id,
			"name":           p.name,
			"description":    nil,
			"createdAt":      p.createdAt,
			"env":            p.env,
			"organizationId": "org-1",
		},
	}
}

// registryJSON is a registry row, password included (older Dokploy versions return it from
// one, and rollback snapshots hold it).
func registryJSON(id, password string) map[string]any {
	return map[string]any{
		"registryId":   id,
		"registryName": "registry",
		"imagePrefix":  nil,
		"username":     "deploy",
		"password":     password,
		"registryUrl":  "registry.example.com",
		"registryType": "cloud",
	}
}

// appJSON is application.one's answer; s.mu must be held.
func (s *Server) appJSON(svc *service) map[string]any {
	var registry, rollbackRegistry any
	registryID, rollbackRegistryID := any(nil), any(nil)
	if svc.registryPassword != "" {
		registryID = "registry-" + svc.id
		registry = registryJSON("registry-"+svc.id, svc.registryPassword)
	}
	if svc.rollbackRegistryPassword != "" {
		rollbackRegistryID = "rollback-registry-" + svc.id
		rollbackRegistry = registryJSON("rollback-registry-"+svc.id, svc.rollbackRegistryPassword)
	}
	return map[string]any{
		"applicationId":        svc.id,
		"name":                 svc.name,
		"appName":              svc.appName,
		"description":          svc.description.json(),
		"env":                  svc.env.json(),
		"previewEnv":           nil,
		"buildArgs":            svc.buildArgs.json(),
		"buildSecrets":         svc.buildSecrets.json(),
		"previewBuildArgs":     nil,
		"createEnvFile":        svc.createEnvFile,
		"replicas":             svc.replicas,
		"applicationStatus":    svc.status,
		"sourceType":           svc.sourceType,
		"repository":           svc.repository.json(),
		"owner":                svc.owner.json(),
		"buildType":            "dockerfile",
		"dockerImage":          svc.dockerIm.json(),
		"registryId":           registryID,
		"rollbackActive":       svc.rollbackActive,
		"rollbackRegistryId":   rollbackRegistryID,
		"serverId":             nil,
		"environmentId":        svc.environmentID,
		"createdAt":            svc.createdAt,
		"domains":              []any{},
		"mounts":               []any{},
		"ports":                []any{},
		"redirects":            []any{},
		"security":             []any{},
		"deployments":          s.rowsUnorderedLocked(svc),
		"registry":             registry,
		"buildRegistry":        nil,
		"rollbackRegistry":     rollbackRegistry,
		"environment":          s.environmentJSONLocked(svc.environmentID),
		"server":               nil,
		"previewDeployments":   []any{},
		"hasGitProviderAccess": true,
	}
}

// composeRow is the compose row without relations, as compose.update returns it.
func (s *Server) composeRow(svc *service) map[string]any {
	return map[string]any{
		"composeId":     svc.id,
		"name":          svc.name,
		"appName":       svc.appName,
		"description":   svc.description.json(),
		"env":           svc.env.json(),
		"composeFile":   svc.composeFile,
		"createEnvFile": svc.createEnvFile,
		"composeStatus": svc.status,
		"composeType":   "docker-compose",
		"sourceType":    svc.sourceType,
		"composePath":   "./docker-compose.yml",
		"serverId":      nil,
		"environmentId": svc.environmentID,
		"createdAt":     svc.createdAt,
	}
}

// composeJSON is compose.one's answer; s.mu must be held.
func (s *Server) composeJSON(svc *service) map[string]any {
	m := s.composeRow(svc)
	m["domains"] = []any{}
	m["mounts"] = []any{}
	m["deployments"] = s.rowsUnorderedLocked(svc)
	m["environment"] = s.environmentJSONLocked(svc.environmentID)
	m["server"] = nil
	m["backups"] = []any{}
	m["hasGitProviderAccess"] = true
	return m
}
