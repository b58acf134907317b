package dokploytest

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestComposeDelivered(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"LAUNCHPLANE_ARTIFACT_ID": "a1", "OTHER": "o", "DB": "d"}
	tests := []struct {
		name string
		file string
		want map[string]string
	}{
		{name: "nothing", file: "services:\n  web:\n    image: x\n", want: map[string]string{}},
		{name: "env_file inline", file: "    env_file: .env\n", want: vars},
		{name: "env_file quoted dot slash", file: "    env_file: \"./.env\"\n", want: vars},
		{name: "env_file flow list", file: "    env_file: [other.env, .env]\n", want: vars},
		{name: "env_file block list", file: "    env_file:\n      - base.env\n      - .env\n", want: vars},
		{name: "env_file path form", file: "    env_file:\n      - path: ./.env\n        required: true\n", want: vars},
		{name: "env_file other file only", file: "    env_file: prod.env\n", want: map[string]string{}},
		{name: "env_file .env.local is not .env", file: "    env_file: .env.local\n", want: map[string]string{}},
		{name: "commented env_file", file: "    # env_file: .env\n", want: map[string]string{}},
		{name: "mapping forward", file: "    environment:\n      LAUNCHPLANE_ARTIFACT_ID: ${LAUNCHPLANE_ARTIFACT_ID}\n", want: map[string]string{"LAUNCHPLANE_ARTIFACT_ID": "a1"}},
		{name: "list forward renamed", file: "    environment:\n      - ART=${LAUNCHPLANE_ARTIFACT_ID:-none}\n", want: map[string]string{"ART": "a1"}},
		{name: "forward of unknown key", file: "    environment:\n      X: ${MISSING}\n", want: map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, composeDelivered(tt.file, vars)); diff != "" {
				t.Errorf("composeDelivered() (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzComposeDelivered(f *testing.F) {
	f.Add("services:\n  web:\n    env_file: .env\n")
	f.Add("    environment:\n      - A=${LAUNCHPLANE_ARTIFACT_ID}\n")
	f.Add("env_file:\n  - path: .env\n")
	f.Fuzz(func(t *testing.T, file string) {
		vars := map[string]string{"LAUNCHPLANE_ARTIFACT_ID": "a1", "K": "v"}
		got := composeDelivered(file, vars)
		for k, v := range got {
			if v != "a1" && v != "v" {
				t.Fatalf("composeDelivered() gave %s=%q, a value not in the env", k, v)
			}
		}
		if !strings.Contains(file, "env_file") && len(got) > 0 && !strings.Contains(file, "${") {
			t.Fatalf("composeDelivered() = %v without env_file or a reference", got)
		}
	})
}
