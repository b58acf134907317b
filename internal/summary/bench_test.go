package summary

import "testing"

func BenchmarkMarkdown(b *testing.B) {
	r := cases()[2].r
	b.ReportAllocs()
	for b.Loop() {
		_ = Markdown(r)
	}
}

func BenchmarkMarkdownHostile(b *testing.B) {
	r := hostileReport()
	b.ReportAllocs()
	for b.Loop() {
		_ = Markdown(r)
	}
}

func BenchmarkEvidence(b *testing.B) {
	r := cases()[2].r
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Evidence(r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDescription(b *testing.B) {
	r := cases()[2].r
	b.ReportAllocs()
	for b.Loop() {
		_ = Description(r)
	}
}
