// Package dokploy talks to a Dokploy instance over its HTTP API
// (/api/<router>.<procedure>, pinned to Dokploy v0.30.2): it reads and writes an
// application's or compose service's env, finds a service by its appName,
// triggers deployments, follows a rollout to its end, and rolls an
// application back to an earlier deployment.
//
// The client follows the go-github shape: one newRequest / do / checkResponse
// path, typed *APIError values that match ErrUnauthorized and ErrNotFound
// through errors.Is, and one method per API operation, each naming its
// operation in its doc comment ("Dokploy API: GET application.one") so a test
// can check it against Dokploy's OpenAPI document. GETs are retried through
// internal/retry on network errors and 5xx answers; POSTs never are. Every
// request ends at its context's deadline.
//
// WaitRollout polls on a fixed schedule (one request a second, every fifth a
// queue read), bounds every request by the rollout deadline, and lets only
// the target's own deployment rows decide.
//
// Responses of application.one, compose.one and deployment.allByType carry
// decrypted secrets (env, the project's and environment's env, build args,
// build secrets, registry passwords, rollback snapshots); Secrets methods list
// them for masking. Nothing in this package prints them, and error text never
// contains the API key, a request body or a query string. Text Dokploy sends
// (ids, titles, statuses, names) is carried as sent in fields; Error methods
// clean it, and SafeText cleans it for callers.
package dokploy
