package launchplane

// Test-only views of a Client, for the package's external tests.

func ClientOrigin(c *Client) string   { return c.origin.String() }
func ClientAudience(c *Client) string { return c.audience }
