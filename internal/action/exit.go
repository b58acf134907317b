package action

// Exit codes are part of the interface: workflows branch on them.
const (
	// ExitOK: success, or a non-match reported as a warning because require-identity is false.
	ExitOK = 0
	// ExitFailed: the rollout failed (error, cancelled) or a required identity was not matched.
	ExitFailed = 1
	// ExitConfig: bad input; nothing was written anywhere.
	ExitConfig = 2
	// ExitUnknown: the outcome could not be found out: Dokploy, GitHub or Launchplane unreachable
	// or refusing the key, a lost job, a row stuck in running, the rollout deadline passed.
	ExitUnknown = 3
)
