package identity

import "testing"

func BenchmarkCanonical(b *testing.B) {
	id := stable(b)
	b.ReportAllocs()
	for b.Loop() {
		_ = id.Canonical()
	}
}

func BenchmarkDigest(b *testing.B) {
	id := stable(b)
	b.ReportAllocs()
	for b.Loop() {
		_ = id.Digest()
	}
}

func BenchmarkExtractHealth(b *testing.B) {
	body := readFixture(b, "health.generic.match.json")
	b.ReportAllocs()
	for b.Loop() {
		_ = ExtractHealth(body)
	}
}

func BenchmarkCompare(b *testing.B) {
	want := stable(b)
	obs := ExtractHealth(readFixture(b, "health.generic.stale.json"))
	b.ReportAllocs()
	for b.Loop() {
		_ = Compare(&want, obs)
	}
}
