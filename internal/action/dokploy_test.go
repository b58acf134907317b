package action

import (
	"testing"

	"github.com/launchplane/runtime-identity/internal/dokploy"
	"github.com/launchplane/runtime-identity/internal/identity"
)

func TestDomainURL(t *testing.T) {
	t.Parallel()
	p := func(s string) *string { return &s }
	tests := []struct {
		name    string
		domains []dokploy.Domain
		want    string
	}{
		{"none", nil, ""},
		{"https", []dokploy.Domain{{Host: "shop.example.com", HTTPS: true}}, "https://shop.example.com"},
		{"http with path", []dokploy.Domain{{Host: "x.example.com", Path: p("/app/")}}, "http://x.example.com/app"},
		{"root path", []dokploy.Domain{{Host: "x.example.com", Path: p("/"), HTTPS: true}}, "https://x.example.com"},
		{"bad host skipped", []dokploy.Domain{{Host: "evil.example.com/x?"}, {Host: "ok.example.com", HTTPS: true}}, "https://ok.example.com"},
	}
	for _, tt := range tests {
		got := domainURL(&dokploy.TargetState{Application: &dokploy.Application{Domains: tt.domains}})
		if got != tt.want {
			t.Errorf("%s: domainURL() = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestConfirmWrite(t *testing.T) {
	t.Parallel()
	written := "A=1\nB=2\nLAUNCHPLANE_DEPLOYMENT_RECORD_ID=d\n"
	tests := []struct {
		name, readBack, want string
	}{
		{"same", written, ""},
		{"same with other bytes", "A=1\r\nB=2\r\nLAUNCHPLANE_DEPLOYMENT_RECORD_ID=d\r\n", ""},
		{"our key lost", "A=1\nB=2\n", "the identity keys did not persist (LAUNCHPLANE_DEPLOYMENT_RECORD_ID)"},
		{"other key changed", "A=1\nB=3\nLAUNCHPLANE_DEPLOYMENT_RECORD_ID=d\n", "other keys changed while the identity was written (B)"},
		{"key added", written + "C=4\n", "other keys changed while the identity was written (C)"},
	}
	for _, tt := range tests {
		if got := confirmWrite(written, tt.readBack); got != tt.want {
			t.Errorf("%s: confirmWrite() = %q, want %q", tt.name, got, tt.want)
		}
	}
	if !carries(map[string]string{identity.EnvSourceGitRef: "s"}, []identity.EnvVar{{Key: identity.EnvSourceGitRef, Value: "s"}}) ||
		carries(map[string]string{}, []identity.EnvVar{{Key: identity.EnvSourceGitRef, Value: "s"}}) {
		t.Error("carries() is wrong")
	}
}

func TestComposeWarning(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		warn bool
	}{
		{"", false},
		{"services:\n  web:\n    env_file: .env\n", false},
		{"services:\n  web:\n    env_file:\n      - .env\n", false},
		{"services:\n  web:\n    environment:\n      LAUNCHPLANE_RUNTIME_IDENTITY_JSON: ${LAUNCHPLANE_RUNTIME_IDENTITY_JSON}\n", false},
		{"services:\n  web:\n    image: x\n", true},
		{"services:\n  web:\n    env_file: secrets.txt\n", true},
		{"services:\n  web:\n    env_file: app.env\n", true},
		{"services:\n  web:\n    env_file: ./.env\n", false},
		{"services:\n  web:\n    env_file:\n      - path: .env\n        required: false\n", false},
		{"services:\n  web:\n    volumes:\n      - ./config/.env.example:/app/.env\n", true},
		{"services:\n  web:\n    environment:\n      # LAUNCHPLANE_RUNTIME_IDENTITY_JSON: ${LAUNCHPLANE_RUNTIME_IDENTITY_JSON}\n", true},
		{"services:\n  web:\n    environment:\n      LAUNCHPLANE_ARTIFACT_ID: ${LAUNCHPLANE_ARTIFACT_ID}\n", true},
		{"services:\n  web:\n    environment:\n      - LAUNCHPLANE_RUNTIME_IDENTITY_JSON\n", false},
		{"services:\n  web:\n    environment:\n      - LAUNCHPLANE_RUNTIME_IDENTITY_JSON=$LAUNCHPLANE_RUNTIME_IDENTITY_JSON\n", false},
	}
	for _, tt := range tests {
		if got := composeWarning(tt.file) != ""; got != tt.warn {
			t.Errorf("composeWarning(%q) warns = %v, want %v", tt.file, got, tt.warn)
		}
	}
}
