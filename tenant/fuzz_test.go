package tenant

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/launchplane/runtime-identity/internal/identity"
)

// FuzzFromEnv feeds arbitrary env text to FromEnv and checks that the Runtime never panics and
// that its state, health value, well-known answer and headers always tell the same story.
func FuzzFromEnv(f *testing.F) {
	inj := testIdentity().Injected()
	f.Add(string(inj.Canonical()), inj.DeploymentRecordID)
	f.Add(string(inj.Canonical()), "other")
	f.Add(findCase("hand-written").env[EnvJSON], "")
	f.Add(findCase("extra keys").env[EnvJSON], "")
	for _, s := range []string{"", " ", "null", "{}", "[]", `"x"`, "{", `{"schema_version":1e400}`, `{"context":"\u00e9\ud83d\ude00"}`,
		`{"artifact_id":"a","context":"c","instance":"i","deployment_record_id":"d\r\nX-Evil: 1","source_git_ref":"s"}`,
		`{"artifact_id":"a","context":"c","instance":"i","deployment_record_id":"d","source_git_ref":"s","schema_version":"1"}`,
		"{\"artifact_id\":\"a\xff\",\"context\":\"c\",\"instance\":\"i\",\"deployment_record_id\":\"d\",\"source_git_ref\":\"s\"}"} {
		f.Add(s, "")
	}
	f.Fuzz(func(t *testing.T, raw, recordID string) {
		rt := FromEnv(envFunc(map[string]string{EnvJSON: raw, EnvDeploymentRecordID: recordID}))
		if rt.Reason() == "" {
			t.Fatal("Reason() is empty")
		}
		id, ok := rt.Identity()
		hv := rt.HealthValue()
		if ok != (rt.State() == StateOK) {
			t.Fatalf("Identity() ok = %v with State() = %v", ok, rt.State())
		}

		h := rt.Middleware(http.NotFoundHandler())
		wk := httptest.NewRecorder()
		h.ServeHTTP(wk, httptest.NewRequest(http.MethodGet, WellKnownPath, nil))
		other := httptest.NewRecorder()
		h.ServeHTTP(other, httptest.NewRequest(http.MethodGet, "/any", nil))
		if diff := cmp.Diff(wk.Header().Values(HeaderDigest), other.Header().Values(HeaderDigest)); diff != "" {
			t.Fatalf("digest header differs between responses (-well-known +other):\n%s", diff)
		}
		headers := identity.ExtractHeaders(other.Header())

		switch rt.State() {
		case StateOK:
			if wk.Code != http.StatusOK || wk.Body.String() != string(hv) {
				t.Fatalf("well-known = %d %s, want 200 with HealthValue() %s", wk.Code, wk.Body.Bytes(), hv)
			}
			sum := sha256.Sum256(hv)
			if d := "sha256:" + hex.EncodeToString(sum[:]); d != rt.Digest() || d != other.Header().Get(HeaderDigest) {
				t.Fatalf("sha256(HealthValue()) = %s, Digest() = %s, header = %s; want all equal", d, rt.Digest(), other.Header().Get(HeaderDigest))
			}
			obs := identity.ExtractWellKnown(wk.Body.Bytes())
			if !obs.Found || fromInternal(obs.Identity) != id {
				t.Fatalf("ExtractWellKnown(served) = %+v, want Found with %+v", obs, id)
			}
			hobs := identity.ExtractHealth(append(append([]byte(`{"runtime_identity":`), hv...), '}'))
			if !hobs.Found || hobs.Identity != obs.Identity {
				t.Fatalf("ExtractHealth(served) = %+v, want Found with %+v", hobs, obs.Identity)
			}
			want := identity.Identity(id)
			if v := identity.Compare(&want, headers); v.Status != identity.StatusMatch {
				t.Fatalf("headers: Compare() = %v (%s), want match", v.Status, v.Detail)
			}
			if dep := other.Header().Get(HeaderDeployment); dep != "" && dep != id.DeploymentRecordID {
				t.Fatalf("deployment header = %q, want %q", dep, id.DeploymentRecordID)
			}
		case StateMissing:
			if hv != nil || rt.Digest() != "" || wk.Code != http.StatusNotFound || headers.Found {
				t.Fatalf("missing: HealthValue() = %s, Digest() = %q, well-known %d, headers found %v", hv, rt.Digest(), wk.Code, headers.Found)
			}
		case StateMalformed:
			if rt.Digest() != "" || wk.Code != http.StatusInternalServerError || headers.Found {
				t.Fatalf("malformed: Digest() = %q, well-known %d, headers found %v", rt.Digest(), wk.Code, headers.Found)
			}
			var obj map[string]string
			if err := json.Unmarshal(hv, &obj); err != nil || len(obj) != 3 || obj["detail"] != rt.Reason() {
				t.Fatalf("malformed HealthValue() = %s (%v), want {detail,error,status} with the reason", hv, err)
			}
			hobs := identity.ExtractHealth(append(append([]byte(`{"runtime_identity":`), hv...), '}'))
			if hobs.Found || hobs.Status != identity.StatusMalformed {
				t.Fatalf("ExtractHealth(malformed value) = %v %s, want malformed", hobs.Found, hobs.Status)
			}
		default:
			t.Fatalf("State() = %q", rt.State())
		}
	})
}
