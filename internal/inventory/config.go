package inventory

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Config is one inventory's settings: the CLI's flags and the Action's inputs alike.
type Config struct {
	// LanesFile is the path of a lanes file (JSON or YAML).
	LanesFile string
	// LaunchplaneURL is the Launchplane instance: with Product, the lanes are the product's
	// environments; with LanesFile, it reads the deployment records lanes name.
	LaunchplaneURL string
	Product        string
	// Format is the output format; "" means FormatForFile(Output), else table on a terminal and
	// json otherwise.
	Format Format
	// Output is the file the report is written to; "" is standard output.
	Output string
	// Concurrency is how many lanes are probed at once (1 to MaxConcurrency).
	Concurrency int
	// Timeout bounds each lane, confirmations included.
	Timeout time.Duration
	// Confirmations is how many consecutive matching answers confirm a match (1 to
	// MaxConfirmations).
	Confirmations int
	// Shard is the slice of the lanes to probe.
	Shard Shard
	// Merge lists shard reports (paths or glob patterns) to join into one report instead of
	// probing: "inventory merge" on the CLI, the merge input in the Action.
	Merge []string
}

// Input names, as the Action's inputs; the CLI's flags are the same names with "--". The lane
// timeout is "timeout" on the CLI and "lane-timeout" as an input, beside the Action's
// verify-timeout, which means something else.
const (
	InputLanesFile      = "lanes-file"
	InputLaunchplaneURL = "launchplane-url"
	InputProduct        = "product"
	InputFormat         = "format"
	InputOutput         = "output"
	InputConcurrency    = "concurrency"
	InputLaneTimeout    = "lane-timeout"
	InputConfirmations  = "confirmations"
	InputShard          = "shard"
	InputMerge          = "merge"
)

// rawConfig is the settings as text, before they are checked.
type rawConfig struct {
	lanes, launchplane, product, format, output, concurrency, timeout, confirmations, shard string
	merge                                                                                   []string
}

// ConfigFromInputs reads the Action's inputs by name (see the Input* constants) through get,
// which returns "" for an absent input. The merge input holds shard report paths or glob
// patterns separated by spaces or newlines. Problems come back as an *InputError naming each
// input.
func ConfigFromInputs(get func(name string) string) (Config, error) {
	raw := rawConfig{
		lanes:         get(InputLanesFile),
		launchplane:   get(InputLaunchplaneURL),
		product:       get(InputProduct),
		format:        get(InputFormat),
		output:        get(InputOutput),
		concurrency:   get(InputConcurrency),
		timeout:       get(InputLaneTimeout),
		confirmations: get(InputConfirmations),
		shard:         get(InputShard),
		merge:         strings.Fields(get(InputMerge)),
	}
	if len(raw.merge) == 0 {
		raw.merge = nil
	}
	return raw.check(func(name string) string {
		if name == "timeout" {
			return InputLaneTimeout
		}
		return name
	}, "inputs")
}

// check validates every setting; name renders a setting's name in problems ("--shard" or
// "shard").
func (raw rawConfig) check(name func(string) string, what string) (Config, error) {
	var probs []Problem
	add := func(setting, format string, args ...any) {
		probs = append(probs, Problem{Path: name(setting), Reason: fmt.Sprintf(format, args...)})
	}
	trim := strings.TrimSpace
	cfg := Config{
		LanesFile:      trim(raw.lanes),
		LaunchplaneURL: trim(raw.launchplane),
		Product:        trim(raw.product),
		Output:         trim(raw.output),
		Concurrency:    DefaultConcurrency,
		Timeout:        DefaultTimeout,
		Confirmations:  1,
		Merge:          raw.merge,
	}
	switch {
	case len(cfg.Merge) > 0 && (cfg.LanesFile != "" || cfg.Product != ""):
		add(InputMerge, "cannot be used with %s or %s: a merge joins reports, it probes nothing", name(InputLanesFile), name(InputProduct))
	case len(cfg.Merge) > 0:
	case cfg.LanesFile == "" && cfg.Product == "":
		add(InputLanesFile, "is missing; give a lanes file, or %s and %s to read a product's environments from Launchplane", name(InputLaunchplaneURL), name(InputProduct))
	case cfg.LanesFile != "" && cfg.Product != "":
		add(InputProduct, "cannot be used with %s; give one of them", name(InputLanesFile))
	case cfg.Product != "" && cfg.LaunchplaneURL == "":
		add(InputLaunchplaneURL, "is missing; %s reads the product's environments from Launchplane", name(InputProduct))
	case cfg.Product != "":
		if reason := checkKey(cfg.Product); reason != "" {
			add(InputProduct, "%s", reason)
		}
	}
	if cfg.LaunchplaneURL != "" {
		if reason := checkTargetURL(cfg.LaunchplaneURL); reason != "" {
			add(InputLaunchplaneURL, "%s", reason)
		}
	}
	f, err := ParseFormat(raw.format)
	if err != nil {
		add(InputFormat, "%s", err.Error())
	}
	cfg.Format = f
	if v := trim(raw.concurrency); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxConcurrency {
			add(InputConcurrency, "is %s; want a whole number from 1 to %d (default %d)", quote(v), MaxConcurrency, DefaultConcurrency)
		}
		cfg.Concurrency = n
	}
	if v := trim(raw.timeout); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 || d > time.Hour {
			add("timeout", "is %s; want a Go duration above 0 and at most 1h, such as 10s or 1m30s (default %s)", quote(v), DefaultTimeout)
		}
		cfg.Timeout = d
	}
	if v := trim(raw.confirmations); v != "" && v != "auto" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxConfirmations {
			add(InputConfirmations, "is %s; want a whole number from 1 to %d, or auto (1)", quote(v), MaxConfirmations)
		}
		cfg.Confirmations = n
	}
	s, err := ParseShard(trim(raw.shard))
	if err != nil {
		add(InputShard, "%s", err.Error())
	}
	cfg.Shard = s
	if len(probs) > 0 {
		return Config{}, inputError(what, probs...)
	}
	return cfg, nil
}
