package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dnsfailover/failover/notify"
)

// attackBase is a valid file whose secret each test sets.
const attackBase = `
zones:
  - name: example.test.
    providers: [{type: rfc2136, server: "127.0.0.1:53", key_name: k, secret_env: FAILOVERD_TEST_SECRET}]
    records:
      - {name: www, type: A, endpoints: [{value: 192.0.2.1}], check: {type: tcp, port: 80}}
`

// A webhook that `failoverd run` refuses (notify.New) is already refused
// by `failoverd check -strict`, at its place in the file: otherwise CI
// passes a file that production cannot start.
func TestCheckRefusesWebhooksThatRunRefuses(t *testing.T) {
	t.Setenv("FAILOVERD_TEST_SECRET", "c2VjcmV0")
	for _, tc := range []struct{ name, webhooks, want string }{
		{"negative max_retries", "webhooks:\n  - {url: \"https://hooks.example/x\", max_retries: -1}\n",
			"f.yaml:8:51: webhooks[0].max_retries: notify: webhook 0: MaxRetries: -1 is negative"},
		{"null entry", "webhooks: [~]\n", "f.yaml:7:12: webhooks[0].url: missing"},
		{"empty entry", "webhooks:\n  -\n", "f.yaml:8:4: webhooks[0].url: missing"},
		{"empty url", "webhooks:\n  - {url: \"\"}\n", "f.yaml:8:11: webhooks[0].url: empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lc, err := parse(context.Background(), "f.yaml", []byte(attackBase+tc.webhooks), true)
			if err == nil {
				_, runErr := notify.New(lc.Webhooks...)
				t.Fatalf("check: got no error, want %q (run refuses the file: %v)", tc.want, runErr)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// The webhook URL is a secret (notify redacts it from every error); a
// mistyped one is not echoed in failoverd's error, which `check` prints
// in CI logs and a rejected reload writes to the daemon's log: the error
// shows the scheme and host at most.
func TestWebhookURLNotEchoedInConfigErrors(t *testing.T) {
	t.Setenv("FAILOVERD_TEST_SECRET", "c2VjcmV0")
	for _, tc := range []struct{ url, want string }{
		{"hooks.slack.com/services/T000/B000/SUPERSECRETTOKEN", "webhooks[0].url: not an absolute URL: want http:// or https://"},
		{" https://hooks.slack.com/services/T000/B000/SUPERSECRETTOKEN", "webhooks[0].url: begins or ends with a space"},
		{"https://hooks.slack.com:SUPERSECRETTOKEN/services/T000/B000/x", "webhooks[0].url: https://hooks.slack.com: what follows the host's colon is not a port number"},
		{"https://user:SUPERSECRETTOKEN@hooks.slack.com:SUPERSECRETTOKEN/x", "webhooks[0].url: https://hooks.slack.com: what follows"},
		{"https:///services/SUPERSECRETTOKEN", "webhooks[0].url: https:// with no host"},
		{"SUPERSECRETTOKEN://hooks.slack.com/x", "webhooks[0].url: the scheme is not http or https"},
		{"ftp://hooks.slack.com/SUPERSECRETTOKEN", `webhooks[0].url: scheme "ftp", want http or https`},
	} {
		text := attackBase + fmt.Sprintf("webhooks:\n  - url: %q\n", tc.url)
		_, err := parse(context.Background(), "f.yaml", []byte(text), true)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("url %q: got %v, want it to contain %q", tc.url, err, tc.want)
			continue
		}
		if strings.Contains(err.Error(), "SUPERSECRETTOKEN") {
			t.Errorf("url %q: got %q, want an error that does not echo the URL's secret part", tc.url, err)
		}
	}
}

// A Slack or Discord webhook URL is a credential: like every other
// secret it can come from url_env or url_file, and one source only.
func TestWebhookURLFromEnvOrFile(t *testing.T) {
	t.Setenv("FAILOVERD_TEST_SECRET", "c2VjcmV0")
	const hook = "https://hooks.slack.com/services/T000/B000/XXXX"
	t.Setenv("FAILOVERD_TEST_HOOK", hook)
	file := filepath.Join(t.TempDir(), "hook")
	if err := os.WriteFile(file, []byte(hook+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, webhook, want string }{
		{"url_env", "{url_env: FAILOVERD_TEST_HOOK, format: slack}", ""},
		{"url_file", fmt.Sprintf("{url_file: %s, format: slack}", file), ""},
		{"url", fmt.Sprintf("{url: %q}", hook), ""},
		{"url_env unset", "{url_env: FAILOVERD_TEST_UNSET}", "f.yaml:8:15: webhooks[0].url_env: environment variable FAILOVERD_TEST_UNSET is empty or unset"},
		{"url and url_env", fmt.Sprintf("{url: %q, url_env: FAILOVERD_TEST_HOOK}", hook), "webhooks[0].url_env: give url or url_env, not both"},
		{"bad URL from the environment", "{url_env: FAILOVERD_TEST_SECRET}", "f.yaml:8:15: webhooks[0].url_env: not an absolute URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lc, err := parse(context.Background(), "f.yaml", []byte(attackBase+"webhooks:\n  - "+tc.webhook+"\n"), true)
			switch {
			case tc.want != "":
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("got %v, want it to contain %q", err, tc.want)
				}
			case err != nil:
				t.Errorf("got %v, want the webhook accepted", err)
			case lc.Webhooks[0].URL != hook:
				t.Errorf("got URL %q, want %q", lc.Webhooks[0].URL, hook)
			}
		})
	}
}

// Without -strict, an unset url_env is a warning, as for every secret,
// and the placeholder standing for it is not taken for a bad URL.
func TestWebhookURLUnsetInCheck(t *testing.T) {
	t.Setenv("FAILOVERD_TEST_SECRET", "c2VjcmV0")
	lc, err := parse(context.Background(), "f.yaml", []byte(attackBase+"webhooks:\n  - {url_env: FAILOVERD_TEST_UNSET}\n"), false)
	if err != nil {
		t.Fatalf("got %v, want a warning only", err)
	}
	if want := "warning: webhooks[0].url_env: environment variable FAILOVERD_TEST_UNSET is empty or unset"; len(lc.warnings) != 1 || !strings.Contains(lc.warnings[0], want) {
		t.Errorf("got warnings %q, want one containing %q", lc.warnings, want)
	}
}
