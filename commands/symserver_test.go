package commands

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"wdbg/engine"
	"wdbg/engine/symstore"
	"wdbg/internal/corpus"
)

// The whole chain: a symbol server on loopback holding crash.pdb in store layout
// (crash.pdb/<GUID><age>/crash.pdb, the key from windows.dmp's CodeView record: GUID
// 3249D99D0C4049318610F4E4FB0B6936 age 1 per CATALOG.md), `srv*CACHE*URL` on the symbol path,
// `.reload /f` downloading it, and a second session with the server gone served from the cache.
func TestSymbolServerEndToEnd(t *testing.T) {
	store := t.TempDir()
	dir := filepath.Join(store, "crash.pdb", "3249D99D0C4049318610F4E4FB0B69361")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := linkOrCopyFile(corpus.Path(t, "symbolic/crash.pdb"), filepath.Join(dir, "crash.pdb")); err != nil {
		t.Fatal(err)
	}
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		http.FileServer(http.Dir(store)).ServeHTTP(w, r)
	}))
	cache := t.TempDir()
	path := "srv*" + cache + "*" + srv.URL

	open := func() *Session {
		tgt, err := engine.Open(corpus.Path(t, "symbolicator/windows.dmp"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { tgt.Close() })
		return NewSessionWith(tgt, SessionOptions{SymbolPath: path, Store: symstore.Options{DefaultCache: t.TempDir()}})
	}
	s := open()
	run(t, s, ".reload /f")
	cached := filepath.Join(cache, "crash.pdb", "3249D99D0C4049318610F4E4FB0B69361", "crash.pdb")
	if got := run(t, s, "lm m crash"); !strings.Contains(got, "(private pdb symbols)  "+cached) {
		t.Errorf("after .reload /f: %s", got)
	}
	if requests.Load() == 0 {
		t.Error("the server was never asked")
	}
	srv.Close()
	s2 := open()
	if got := run(t, s2, "ln 2a2a3d"); !strings.Contains(got, "crash!main+0x12d") {
		t.Errorf("offline from the cache: ln = %q", got)
	}
}

func linkOrCopyFile(src, dst string) error {
	if err := os.Symlink(src, dst); err == nil {
		return nil
	}
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644)
}
