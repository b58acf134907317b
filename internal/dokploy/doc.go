// Package dokploy talks to a Dokploy instance over its HTTP API
// (/api/<router>.<procedure>, pinned to Dokploy v0.30.2): it reads and writes an
// application's or compose service's env, triggers deployments and follows a
// rollout to its end.
//
// The client follows the go-github shape: one newRequest / do / checkResponse
// path, typed *APIError values that match ErrUnauthorized and ErrNotFound
// through errors.Is, and one method per API operation, each naming its
// operation in its doc comment ("Dokploy API: GET application.one") so a test
// can check it against Dokploy's OpenAPI document.
//
// Responses of application.one and compose.one carry decrypted secrets (env,
// build args, build secrets, registry passwords). Nothing in this package
// prints them, and error text never contains the API key, a request body or a
// query string.
package dokploy
