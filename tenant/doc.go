// Package tenant is what a tenant's net/http server uses to expose its Launchplane runtime identity
// on all three surfaces the verifier reads: the runtime_identity key of its own health JSON, the
// document at /.well-known/launchplane-runtime.json, and the X-Launchplane-Deployment and
// X-Launchplane-Identity-Digest response headers.
//
// The LAUNCHPLANE_* env is read once, by FromEnv. A tenant with no identity env, or a broken one,
// still starts: the Runtime then reports StateMissing or StateMalformed, the well-known document
// answers 404 or 500, no identity headers are sent, and the health value is null or says what
// is wrong without echoing the env text.
//
// Usage:
//
//	rt := tenant.FromEnv(os.Getenv)
//	mux := http.NewServeMux()
//	mux.HandleFunc("GET /api/health", func(w http.ResponseWriter, r *http.Request) {
//		w.Header().Set("Content-Type", "application/json")
//		json.NewEncoder(w).Encode(map[string]any{
//			"status":           "ok",
//			"runtime_identity": rt.HealthValue(),
//		})
//	})
//	// The middleware adds the headers to every response and serves the well-known document.
//	log.Fatal(http.ListenAndServe(":8080", rt.Middleware(mux)))
//
// # What is served
//
// The tenant serves, and hashes, the canonical rendering of the identity it decoded from
// LAUNCHPLANE_RUNTIME_IDENTITY_JSON, not the env text itself. For env written by this project or
// by Launchplane the two are byte-identical. For a hand-written env (other whitespace or key
// order, omitted optional fields, schema_version written "1", 1.0 or true) the canonical form is
// what the verifier computes from the expected identity, so the digest header still matches.
// Keys this version does not know are dropped. The well-known body is exactly the canonical JSON,
// so its SHA-256 equals the digest header.
//
// Decoding is as lenient as the verifier's, which reads identities as Launchplane's own model does
// (docs/contract.md): a value the contract's character rule forbids is served as is and shows up
// as a mismatch, not as a tenant that cannot start.
//
// Middleware gives every response header values of its own, so a handler that edits
// w.Header()[HeaderDeployment] in place cannot change another response. It makes no allocation
// per request: those values (32 bytes a response) come from blocks allocated for 256 responses
// or more at a time.
package tenant
