package bench

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/launchplane/runtime-identity/internal/identity"
)

// fixedUserAgent marks the reference poller's requests.
const fixedUserAgent = "reference-fixed-1s"

// fixedPoll is the reference: Launchplane's poller, as in cbusillo/launchplane
// control_plane/workflows/runtime_identity_health.py (wait_for_runtime_identity_healthcheck_with_retry,
// commit ff8f4aa58606d3e623c5d45765fcb361cc75acee, and reference/launchplane-contract.md section
// 6): a plain GET of the health URL with a timeout of min(5 s, the overall timeout), at most
// 256 KiB read, non-2xx an error; return on the first match, else sleep 1 s and probe again
// until the deadline. Its client should not keep connections alive, like Python's urlopen. It
// returns when the matching answer arrived.
func fixedPoll(ctx context.Context, client *http.Client, url string, want identity.Identity, timeout time.Duration, now func() time.Time, sleep func(context.Context, time.Duration) error) (time.Time, error) {
	deadline := now().Add(timeout)
	for now().Before(deadline) {
		if probeOnce(ctx, client, url, &want, min(5*time.Second, timeout)) {
			return now(), nil
		}
		if err := sleep(ctx, time.Second); err != nil {
			return time.Time{}, err
		}
	}
	return time.Time{}, errors.New("reference: no match before the deadline")
}

// probeOnce is one of the reference's probes; it reports whether the answer matched.
func probeOnce(ctx context.Context, client *http.Client, url string, want *identity.Identity, timeout time.Duration) bool {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	req.Header.Set("User-Agent", fixedUserAgent)
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 256<<10))
	if err != nil || resp.StatusCode < 200 || resp.StatusCode > 299 {
		return false
	}
	return identity.Compare(want, identity.ExtractHealth(body)).Status == identity.StatusMatch
}
