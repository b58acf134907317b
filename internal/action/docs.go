package action

import (
	"fmt"
	"strings"
)

// ActionYAML renders action.yml from Inputs and Outputs. image is what runs.image names.
func ActionYAML(image string) string {
	var b strings.Builder
	b.WriteString(`# Generated from internal/action/inputs.go by: go test ./internal/action -run TestGeneratedDocs -update
name: Launchplane runtime identity
description: Inject a non-secret runtime identity into a Dokploy deployment and prove the running tenant reports it.
author: Launchplane
branding:
  icon: check-circle
  color: green
inputs:
`)
	for _, in := range Inputs {
		fmt.Fprintf(&b, "  %s:\n    description: %s\n    required: false\n", in.Name, yamlString(in.Description))
		def := in.Default
		if in.ActionDefault != "" {
			def = in.ActionDefault
		}
		if def != "" {
			fmt.Fprintf(&b, "    default: %s\n", yamlString(def))
		}
	}
	b.WriteString("outputs:\n")
	for _, out := range Outputs {
		fmt.Fprintf(&b, "  %s:\n    description: %s\n", out.Name, yamlString(out.Description))
	}
	fmt.Fprintf(&b, "runs:\n  using: docker\n  image: %s\n", image)
	return b.String()
}

// yamlString quotes s as a YAML double-quoted scalar.
func yamlString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
