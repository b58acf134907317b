package app

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestLoadConfig(t *testing.T) {
	t.Parallel()
	defaults := config{port: DefaultPort, healthStatus: 200, delay: defaultDelay, health: true, wellKnown: true, headers: true}
	for _, tc := range []struct {
		name string
		env  map[string]string
		want config
	}{
		{"defaults", nil, defaults},
		{"any free port", map[string]string{EnvPort: "0"}, config{port: 0, healthStatus: 200, delay: defaultDelay, health: true, wellKnown: true, headers: true}},
		{"knobs", map[string]string{EnvPort: " 9000 ", EnvHealthStatus: "503", EnvHealthMode: "slow", EnvHealthDelay: "2s", EnvSurfaces: "headers , health"},
			config{port: 9000, healthStatus: 503, mode: ModeSlow, delay: 2 * time.Second, health: true, headers: true}},
		{"no surfaces", map[string]string{EnvSurfaces: "none"}, config{port: DefaultPort, healthStatus: 200, delay: defaultDelay}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := loadConfig(func(k string) string { return tc.env[k] })
			if err != nil {
				t.Fatalf("loadConfig() = %v", err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(config{})); diff != "" {
				t.Errorf("loadConfig() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
