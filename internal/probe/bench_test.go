package probe

import (
	"context"
	"testing"

	"github.com/launchplane/runtime-identity/internal/identity"
)

// BenchmarkOnce is one round against a loopback tenant serving all three surfaces.
func BenchmarkOnce(b *testing.B) {
	tn := newTenant(b, false, map[string]func(int) reply{
		healthPath:             always(healthReply(newID)),
		identity.WellKnownPath: always(wellKnownReply(newID)),
	})
	opts := Options{HealthURL: tn.URL + healthPath, BaseURL: tn.URL, Expected: &newID}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		r, err := Once(ctx, opts)
		if err != nil || r.Verdict.Status != identity.StatusMatch {
			b.Fatalf("Once() = %s, %v, want match", r.Verdict.Status, err)
		}
	}
}
