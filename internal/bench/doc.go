// Package bench holds scenario benchmarks: each one measures the verifier against a reference
// implementation in the same run, against the same loopback tenant, so that both see the same
// machine and the same moments. Figures come from benchmarks, never from timed tests.
//
// BenchmarkSwitchDetection measures switch-detection lag: a tenant switches to a new identity at
// a random moment, and the lag is the time from the switch to a poller's first matching answer.
// It runs probe.Poll (defaults: a 100 ms schedule) and a reference fixed 1 s poller (Launchplane's
// rule: probe, then sleep 1 s) side by side on every switch, one switch per benchmark iteration,
// and reports for each the median and 90th percentile lag, their ratios, and requests/s:
//
//	go test -run '^$' -bench SwitchDetection -benchtime 30x -count 6 ./internal/bench | tee /tmp/switch.txt
//	go run golang.org/x/perf/cmd/benchstat@v0.0.0-20250813145418-2f7363a06fe1 /tmp/switch.txt
//
// A switch takes about 1 s, so that is about 3 minutes. The switch moments come from a fixed
// seed, so every run sees the same ones.
//
// BenchmarkPipelineOverhead measures a whole deploy's overhead: the run's end minus the moment
// the tenant began serving the new identity alone, on the demo's happy scenario run in-process
// (the fake Dokploy, the example tenant as a real process, action.Main). The reference in the
// same iteration is the same pipeline whose probe waits 1 s after every round, as Launchplane's
// poller does. It reports the median and 90th percentile over 20 runs a side an iteration:
//
//	go test -run '^$' -bench PipelineOverhead -benchtime 1x -count 6 ./internal/bench | tee /tmp/overhead.txt
//	go run golang.org/x/perf/cmd/benchstat@v0.0.0-20250813145418-2f7363a06fe1 /tmp/overhead.txt
//
// That is about 15 minutes; add -args -overhead-runs=N for another number of runs.
//
// docs/performance.md holds the figures.
package bench
