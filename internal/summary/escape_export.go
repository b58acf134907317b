package summary

// EscapeMarkdown makes s inert Markdown text that stays on one line and inside one table cell,
// by the rules of escapeMarkdown. Other reports written as Markdown (the fleet inventory's job
// summary) use it for every value they did not write themselves. It does not cut s.
func EscapeMarkdown(s string) string { return escapeMarkdown(s) }
