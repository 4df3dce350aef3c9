package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coop-exchange/coop/internal/testenv"
)

func TestServicesImportCommand(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"COOP_DATABASE_URL": "sqlite:" + filepath.Join(dir, "coop.db")}
	if code, _, stderr := runCLI(t, env, "", "migrate"); code != 0 {
		t.Fatalf("migrate: %d %s", code, stderr)
	}
	sample := filepath.Join(testenv.Standards(t), "oruk-1.0-real-feed-sample", "north-lincolnshire-services-sample.json")
	code, out, stderr := runCLI(t, env, "", "services", "import", sample)
	if code != 0 || !strings.Contains(out, "north-lincolnshire-services-sample.json: 40 records: 40 imported, 0 updated, 0 unchanged, 0 skipped.") ||
		!strings.Contains(out, `   1  imported   "We are with You" WAWY  [738f94e0-aa6c-6a5c-2395-7b64421ba2a5]  service 1`) ||
		!strings.Contains(out, "nothing is routed to them until a coordinator sets") {
		t.Fatalf("first import: exit %d\n%s\n%s", code, out, stderr)
	}
	code, out, _ = runCLI(t, env, "", "services", "import", sample)
	if code != 0 || !strings.Contains(out, "40 records: 0 imported, 0 updated, 40 unchanged, 0 skipped.") {
		t.Errorf("second import: exit %d\n%s", code, out)
	}
	notes := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notes, []byte("Minutes of the committee"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runCLI(t, env, "", "services", "import", notes)
	if code != 1 || !strings.Contains(stderr, "notes.txt is not an Open Referral (HSDS or ORUK) list of services, so nothing was imported: the file is not JSON") {
		t.Errorf("a text file: exit %d: %s", code, stderr)
	}
	if code, _, stderr := runCLI(t, env, "", "services", "import"); code != 2 || !strings.Contains(stderr, "give one file or feed address") {
		t.Errorf("no file: exit %d: %s", code, stderr)
	}
}
