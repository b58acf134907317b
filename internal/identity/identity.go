// Package identity holds the Launchplane runtime identity contract (schema_version 1): the value a
// deployment carries, its canonical JSON, digest and env keys, how a running tenant's answer is read
// back, and how an observed identity compares with the expected one.
//
// The rendering is byte-compatible with Launchplane's (cbusillo/launchplane
// control_plane/contracts/runtime_identity.py), and a tenant's answer is read with Launchplane's
// own rules (Python's json module, pydantic's lax mode; see lax.go), so tenants adopted for
// Launchplane verify unchanged. The few deliberate differences are listed in docs/contract.md.
//
// Fields is the one table of the contract's fields; code that walks the fields (here and in the
// packages that show, set or compare them) derives from it.
package identity

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"unicode/utf8"
)

// SchemaVersion is the only contract version this package writes and accepts.
const SchemaVersion = 1

// Env keys written into a deployment's environment. None of them is secret.
const (
	EnvJSON               = "LAUNCHPLANE_RUNTIME_IDENTITY_JSON"
	EnvDeploymentRecordID = "LAUNCHPLANE_DEPLOYMENT_RECORD_ID"
	EnvArtifactID         = "LAUNCHPLANE_ARTIFACT_ID"
	EnvSourceGitRef       = "LAUNCHPLANE_SOURCE_GIT_REF"
)

// Tenant surfaces other than the health JSON.
const (
	HeaderDeployment = "X-Launchplane-Deployment"
	HeaderDigest     = "X-Launchplane-Identity-Digest"
	WellKnownPath    = "/.well-known/launchplane-runtime.json"
)

// Environment kinds.
const (
	KindStable  = "stable"
	KindPreview = "preview"
)

// Identity is one deployment's runtime identity. Every field is non-secret.
type Identity struct {
	SchemaVersion       int    `json:"schema_version"`
	Product             string `json:"product"`
	Context             string `json:"context"`
	Instance            string `json:"instance"`
	EnvironmentKind     string `json:"environment_kind"`
	DeploymentRecordID  string `json:"deployment_record_id"`
	ArtifactID          string `json:"artifact_id"`
	SourceGitRef        string `json:"source_git_ref"`
	ImageReference      string `json:"image_reference"`
	ReleaseTupleID      string `json:"release_tuple_id"`
	PreviewID           string `json:"preview_id"`
	PreviewGenerationID string `json:"preview_generation_id"`
	DeployedAt          string `json:"deployed_at"`
}

// EnvVar is one env key and its value.
type EnvVar struct {
	Key   string
	Value string
}

// Canonical returns the canonical JSON rendering: one compact object, keys sorted, every field
// present, no HTML escaping, everything outside printable ASCII escaped as \uXXXX. It is
// byte-identical to Python's json.dumps(obj, sort_keys=True, separators=(",", ":")).
func (id Identity) Canonical() []byte {
	b := make([]byte, 0, 512)
	b = append(b, '{')
	for i, f := range canonicalFields {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, f.Name)
		b = append(b, ':')
		if f.str == nil {
			b = strconv.AppendInt(b, int64(id.SchemaVersion), 10)
		} else {
			b = appendString(b, *f.str(&id))
		}
	}
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string the way Python's json module does with ensure_ascii.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := rune(c), 1
		if c >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		i += size
		switch r {
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		default:
			if r > 0xffff {
				r -= 0x10000
				b = appendU(b, 0xd800+(r>>10))
				b = appendU(b, 0xdc00+(r&0x3ff))
			} else {
				b = appendU(b, r)
			}
		}
	}
	return append(b, '"')
}

func appendU(b []byte, r rune) []byte {
	return append(b, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}

// Digest returns "sha256:<hex>" of the canonical JSON.
func (id Identity) Digest() string {
	sum := sha256.Sum256(id.Canonical())
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Breadcrumb returns a short display string, "product/context/instance deployment_record_id @sha7".
// It is for people; machines read the canonical JSON or the digest.
func (id Identity) Breadcrumb() string {
	var b strings.Builder
	if id.Product != "" {
		b.WriteString(id.Product)
		b.WriteByte('/')
	}
	b.WriteString(id.Context)
	b.WriteByte('/')
	b.WriteString(id.Instance)
	b.WriteByte(' ')
	b.WriteString(id.DeploymentRecordID)
	if ref := id.SourceGitRef; ref != "" {
		if len(ref) > 7 {
			ref = ref[:7]
		}
		b.WriteString(" @")
		b.WriteString(ref)
	}
	return b.String()
}

// EnvVars returns the four env keys and their values, in EnvKeys order.
func (id Identity) EnvVars() []EnvVar {
	out := make([]EnvVar, 0, len(EnvKeys))
	out = append(out, EnvVar{EnvJSON, string(id.Canonical())})
	for _, f := range Fields {
		if f.EnvKey != "" {
			out = append(out, EnvVar{f.EnvKey, f.Get(&id)})
		}
	}
	return out
}

// Injected returns the identity as it is written into a deployment's env: deployed_at is empty
// there, because the record gets the finish time only later.
func (id Identity) Injected() Identity {
	id.DeployedAt = ""
	return id
}
