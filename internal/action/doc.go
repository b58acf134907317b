// Package action turns inputs into a Config and runs one mode's pipeline: assemble the expected
// identity, patch it into Dokploy and follow the rollout, probe the tenant, and report the verdict
// in the job summary, outputs, evidence file and GitHub deployment. It is the only package that
// knows the order of these steps and the only one that reads the environment (through the
// injected Env). Every other package is a tool it calls.
package action
