package app

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// Env keys the example reads besides the LAUNCHPLANE_* identity keys. The EXAMPLE_* keys are
// test and demo knobs that reproduce badly behaved tenants; a real tenant has none of them.
const (
	EnvPort           = "PORT"
	EnvDockerImageRef = "DOCKER_IMAGE_REFERENCE"
	EnvLaunchplaneRef = "LAUNCHPLANE_IMAGE_REFERENCE"

	EnvHealthStatus = "EXAMPLE_HEALTH_STATUS"
	EnvHealthMode   = "EXAMPLE_HEALTH_MODE"
	EnvHealthDelay  = "EXAMPLE_HEALTH_DELAY"
	EnvSurfaces     = "EXAMPLE_SURFACES"
)

// DefaultPort is the port used when PORT is unset.
const DefaultPort = 8080

// Health modes (EXAMPLE_HEALTH_MODE).
const (
	ModeNormal    = ""          // the recommended generic-web body
	ModeHTML      = "html"      // an HTML page instead of JSON
	ModeNull      = "null"      // "runtime_identity": null
	ModeMalformed = "malformed" // "runtime_identity": an error object that is not an identity
	ModeString    = "string"    // the identity as a JSON string under LAUNCHPLANE_RUNTIME_IDENTITY_JSON
	ModeSlow      = "slow"      // the normal body after EXAMPLE_HEALTH_DELAY
)

// Identity surfaces (EXAMPLE_SURFACES).
const (
	SurfaceHealth    = "health"
	SurfaceWellKnown = "well-known"
	SurfaceHeaders   = "headers"
)

// defaultDelay is how long slow mode waits when EXAMPLE_HEALTH_DELAY is unset: longer than any
// sensible probe timeout.
const defaultDelay = 30 * time.Second

type config struct {
	port         int
	healthStatus int
	mode         string
	delay        time.Duration
	health       bool // runtime_identity in the health JSON
	wellKnown    bool
	headers      bool
}

// loadConfig reads the example's settings. Errors name the key and what is valid, never the value.
func loadConfig(getenv func(string) string) (config, error) {
	c := config{port: DefaultPort, healthStatus: 200, delay: defaultDelay, health: true, wellKnown: true, headers: true}
	if v := strings.TrimSpace(getenv(EnvPort)); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 65535 {
			return config{}, errors.New("app: " + EnvPort + " must be a port number from 0 (any free port) to 65535")
		}
		c.port = n
	}
	if v := strings.TrimSpace(getenv(EnvHealthStatus)); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 200 || n > 599 {
			return config{}, errors.New("app: " + EnvHealthStatus + " must be an HTTP status code from 200 to 599")
		}
		c.healthStatus = n
	}
	switch v := strings.TrimSpace(getenv(EnvHealthMode)); v {
	case ModeNormal, ModeHTML, ModeNull, ModeMalformed, ModeString, ModeSlow:
		c.mode = v
	default:
		return config{}, errors.New("app: " + EnvHealthMode + " must be empty or one of html, null, malformed, string, slow")
	}
	if v := strings.TrimSpace(getenv(EnvHealthDelay)); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return config{}, errors.New("app: " + EnvHealthDelay + " must be a non-negative Go duration such as 500ms or 1m")
		}
		c.delay = d
	}
	if v := strings.TrimSpace(getenv(EnvSurfaces)); v != "" {
		c.health, c.wellKnown, c.headers = false, false, false
		if v != "none" {
			for _, s := range strings.Split(v, ",") {
				switch strings.TrimSpace(s) {
				case SurfaceHealth:
					c.health = true
				case SurfaceWellKnown:
					c.wellKnown = true
				case SurfaceHeaders:
					c.headers = true
				default:
					return config{}, errors.New("app: " + EnvSurfaces + " must be none or a comma-separated list of health, well-known, headers")
				}
			}
		}
	}
	return c, nil
}
