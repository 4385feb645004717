package symstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"wdbg/internal/corpus"
)

// storeFixture is one file of the real store test-pdb-repository with its CATALOG.md facts.
type storeFixture struct {
	key    Key
	rel    string // its path in the store as the store spells it
	size   int64
	sha256 string
}

// repoFixtures lists test-pdb-repository (CATALOG.md rows 135-138). Keys come from the facts
// the catalog gives for the image or its RSDS record, not from the store's directory names.
func repoFixtures(t testing.TB) []storeFixture {
	return []storeFixture{
		// amdppm.sys: RSDS 1C19FDDB27BB3399D9B45973EFEAFCF3 age 1.
		{PDBKey("amdppm.pdb", guidBytes(t, "1C19FDDB27BB3399D9B45973EFEAFCF3"), 1),
			"amdppm.pdb/1C19FDDB27BB3399D9B45973EFEAFCF31/amdppm.pdb", 674816,
			"c0540394a2cc9dd35f653a82fc51490ff1db52c2a33318bd00a852c21f09332d"},
		// amdppm.sys: ts 0xc9c03000, SizeOfImage 0x3b000.
		{ImageKey("amdppm.sys", 0xc9c03000, 0x3b000), "amdppm.sys/c9c030003b000/amdppm.sys", 211264,
			"98d8e713724184b6a8e1e79d5392958a63076f8ea164ba1e40bc0d14ce77f855"},
		// Wdf01000.sys: ts 0xa9a9d36e, SizeOfImage 0xd1000.
		{ImageKey("Wdf01000.sys", 0xa9a9d36e, 0xd1000), "Wdf01000.sys/a9a9d36ed1000/Wdf01000.sys", 827704,
			"1be1287fad8f8e38b8d66e718150f4d3f6183091d06222d73633566289377e2d"},
		// user32.pdb: GUID 15F778B3671D4EFDBDCDE79905308B79, stored under age 2.
		{PDBKey("user32.pdb", guidBytes(t, "15F778B3671D4EFDBDCDE79905308B79"), 2),
			"user32.pdb/15F778B3671D4EFDBDCDE79905308B792/user32.pdb", 1282048,
			"b6d07e08b05763a5d2323deb868711a06beeaa0cca89203debfa6a9cc4ffa317"},
	}
}

// basic32Key is the key of mozilla-dump_syms/basic32.pdb (CATALOG.md: basic32.dll RSDS
// 34060D222DBB44E5AA72243CE8326C2F age 2); the store test serves basic32.pd_ under it.
func basic32Key(t testing.TB) Key {
	return PDBKey("basic32.pdb", guidBytes(t, "34060D222DBB44E5AA72243CE8326C2F"), 2)
}

// storeServer serves a directory as an HTTP symbol store on loopback and records request paths.
// Handlers in override take the paths they name.
type storeServer struct {
	*httptest.Server
	mu       sync.Mutex
	requests []string
	override map[string]http.HandlerFunc
}

func newStoreServer(t testing.TB, root string) *storeServer {
	s := &storeServer{override: map[string]http.HandlerFunc{}}
	files := http.FileServer(http.Dir(root))
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests = append(s.requests, r.URL.Path)
		h := s.override[r.URL.Path]
		s.mu.Unlock()
		if h != nil {
			h(w, r)
			return
		}
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *storeServer) handle(path string, h http.HandlerFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.override[path] = h
}

func (s *storeServer) log() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

func (s *storeServer) count(path string) int {
	n := 0
	for _, r := range s.log() {
		if r == path {
			n++
		}
	}
	return n
}

func fileSHA256(t *testing.T, p string) (int64, string) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return int64(len(b)), sha256Hex(b)
}

// noLeftovers fails when a directory holds temporary files of an unfinished download.
func noLeftovers(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".wdbg-") {
			t.Errorf("leftover temporary file %s", p)
		}
		return nil
	})
}

// cacheFiles lists the regular files below dir, relative, with forward slashes.
func cacheFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	return out
}

func TestDownloadThenOffline(t *testing.T) {
	store := corpus.Path(t, "test-pdb-repository")
	srv := newStoreServer(t, store)
	cache := t.TempDir()
	path := ParsePath("srv*" + cache + "*" + srv.URL)

	var mu sync.Mutex
	last := map[string]Progress{}
	c := NewClient(path, Options{Progress: func(p Progress) {
		mu.Lock()
		defer mu.Unlock()
		last[p.Key.Name] = p
	}})
	fx := repoFixtures(t)
	var keys []Key
	for _, f := range fx {
		keys = append(keys, f.key)
	}
	res := c.FindAll(context.Background(), keys, 3)
	for i, r := range res {
		f := fx[i]
		if r.Err != nil {
			t.Fatalf("%s: %v", f.key, r.Err)
		}
		// Downloads land in the cache in store layout under the key's spelling.
		if want := filepath.Join(cache, filepath.FromSlash(f.key.Path())); r.Path != want {
			t.Errorf("%s: path %s, want %s", f.key, r.Path, want)
		}
		if !r.Downloaded || r.Key != f.key {
			t.Errorf("%s: found %+v", f.key, r.Found)
		}
		if size, sum := fileSHA256(t, r.Path); size != f.size || sum != f.sha256 {
			t.Errorf("%s: %d bytes sha256 %s, want %d %s (CATALOG.md)", f.key, size, sum, f.size, f.sha256)
		}
		p := last[f.key.Name]
		if !p.Done || p.Bytes != f.size || p.Total != f.size || !strings.HasPrefix(p.URL, srv.URL) {
			t.Errorf("%s: last progress %+v", f.key, p)
		}
	}
	// The store spells image directories in lower case: the WinDbg spelling is a 404, then the
	// SSQP lower-case spelling is asked.
	if srv.count("/amdppm.sys/C9C030003b000/amdppm.sys") != 1 || srv.count("/amdppm.sys/c9c030003b000/amdppm.sys") != 1 {
		t.Errorf("requests for amdppm.sys: %q", srv.log())
	}
	if srv.count("/index2.txt") != 1 {
		t.Errorf("index2.txt asked %d times, want once per store and session", srv.count("/index2.txt"))
	}
	noLeftovers(t, cache)

	// The server goes away: a new session finds everything in the cache without a request.
	srv.Close()
	before := len(srv.log())
	c2 := NewClient(path, Options{})
	for i, r := range c2.FindAll(context.Background(), keys, 2) {
		if r.Err != nil || r.Downloaded || r.Path != filepath.Join(cache, filepath.FromSlash(fx[i].key.Path())) {
			t.Errorf("offline %s: %+v %v", fx[i].key, r.Found, r.Err)
		}
	}
	if n := len(srv.log()); n != before {
		t.Errorf("offline lookups made %d requests", n-before)
	}
	// The same cache works as a plain cache* element and as a plain directory.
	for _, p := range []string{"cache*" + cache, cache} {
		got, err := NewClient(ParsePath(p), Options{}).Find(context.Background(), fx[1].key)
		if err != nil || got != filepath.Join(cache, filepath.FromSlash(fx[1].key.Path())) {
			t.Errorf("%s: %q, %v", p, got, err)
		}
	}
}

func TestNotFoundAndNegativeCache(t *testing.T) {
	srv := newStoreServer(t, corpus.Path(t, "test-pdb-repository"))
	c := NewClient(ParsePath("srv*"+t.TempDir()+"*"+srv.URL), Options{})
	key := PDBKey("missing.pdb", guidBytes(t, "00112233445566778899AABBCCDDEEFF"), 1)
	_, err := c.Find(context.Background(), key)
	var nf *NotFoundError
	if !errors.Is(err, ErrNotFound) || !errors.As(err, &nf) || !slices.Contains(nf.Searched, srv.URL) {
		t.Fatalf("404: %v", err)
	}
	// Every form was asked once: the file in the key's spelling and in lower case, the
	// compressed file and file.ptr in the key's spelling.
	dir := "/missing.pdb/00112233445566778899AABBCCDDEEFF1/"
	want := []string{"/index2.txt", dir + "missing.pdb", strings.ToLower(dir) + "missing.pdb", dir + "missing.pd_", dir + "file.ptr"}
	if !slices.Equal(srv.log(), want) {
		t.Errorf("requests:\n got %q\nwant %q", srv.log(), want)
	}
	// A miss is remembered for the session.
	n := len(srv.log())
	if _, err := c.Find(context.Background(), key); !errors.Is(err, ErrNotFound) || len(srv.log()) != n {
		t.Errorf("second lookup: %v, %d new requests", err, len(srv.log())-n)
	}
	c.ForgetMisses()
	if _, err := c.Find(context.Background(), key); !errors.Is(err, ErrNotFound) || len(srv.log()) == n {
		t.Errorf("after ForgetMisses: %v, %d new requests", err, len(srv.log())-n)
	}
	// Other error statuses are failures, not misses, and are not remembered.
	srv.handle(dir+"missing.pdb", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "busy", http.StatusServiceUnavailable) })
	c.ForgetMisses()
	_, err = c.Find(context.Background(), key)
	var fe *FetchError
	if errors.Is(err, ErrNotFound) || !errors.As(err, &fe) || fe.Status != 503 || !strings.Contains(err.Error(), srv.URL+dir+"missing.pdb: HTTP 503") {
		t.Errorf("503: %v", err)
	}
}

func TestTimeout(t *testing.T) {
	srv := newStoreServer(t, corpus.Path(t, "test-pdb-repository"))
	key := repoFixtures(t)[0].key
	slow := "/" + key.Path()
	srv.handle(slow, func(w http.ResponseWriter, r *http.Request) {
		select { // longer than the client waits; ends when the client gives up
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	cache := t.TempDir()
	c := NewClient(ParsePath("srv*"+cache+"*"+srv.URL), Options{Timeout: 200 * time.Millisecond})
	start := time.Now()
	_, err := c.Find(context.Background(), key)
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), srv.URL+slow) {
		t.Errorf("slow server: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v with a 200ms timeout", d)
	}
	if files := cacheFiles(t, cache); len(files) != 0 {
		t.Errorf("cache after a timeout: %q", files)
	}
	// A body that stalls half-way is caught too.
	srv.handle(slow, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100000")
		w.Write(make([]byte, 1000))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	if _, err := c.Find(context.Background(), key); !errors.Is(err, ErrTimeout) {
		t.Errorf("stalled body: %v", err)
	}
	noLeftovers(t, cache)
}

func TestConnectionDropped(t *testing.T) {
	srv := newStoreServer(t, corpus.Path(t, "test-pdb-repository"))
	key := repoFixtures(t)[0].key
	p := "/" + key.Path()
	hijack := func(w http.ResponseWriter, reply string) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			panic(err)
		}
		buf.WriteString(reply)
		buf.Flush()
		conn.Close()
	}
	cache := t.TempDir()
	c := NewClient(ParsePath("srv*"+cache+"*"+srv.URL), Options{Timeout: 5 * time.Second})
	for _, reply := range []string{
		"", // closed before any answer
		"HTTP/1.1 200 OK\r\nContent-Length: 674816\r\n\r\nMicrosoft C/C++ MSF 7.00\r\n", // closed mid-body
	} {
		srv.handle(p, func(w http.ResponseWriter, r *http.Request) { hijack(w, reply) })
		_, err := c.Find(context.Background(), key)
		var fe *FetchError
		if err == nil || errors.Is(err, ErrNotFound) || !errors.As(err, &fe) || fe.URL != srv.URL+p || !strings.Contains(err.Error(), srv.URL+p) {
			t.Errorf("reply %q: %v", reply, err)
		}
		if files := cacheFiles(t, cache); len(files) != 0 {
			t.Errorf("reply %q: cache holds %q", reply, files)
		}
	}
	// Failures are not remembered: once the server behaves, the file comes.
	srv.handle(p, nil)
	if got, err := c.Find(context.Background(), key); err != nil || filepath.Base(got) != "amdppm.pdb" {
		t.Errorf("after recovery: %q, %v", got, err)
	}
}

func TestCompressedFromServer(t *testing.T) {
	pd := corpus.Path(t, "mozilla-dump_syms/basic32.pd_")
	srv := newStoreServer(t, t.TempDir())
	key := basic32Key(t)
	cabPath := "/basic32.pdb/34060D222DBB44E5AA72243CE8326C2F2/basic32.pd_"
	srv.handle(cabPath, func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, pd) })
	cache := t.TempDir()
	var last Progress
	c := NewClient(ParsePath("srv*"+cache+"*"+srv.URL), Options{Progress: func(p Progress) { last = p }})
	f, err := c.Locate(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	if f.Path != filepath.Join(cache, "basic32.pdb", "34060D222DBB44E5AA72243CE8326C2F2", "basic32.pdb") || f.Source != srv.URL+cabPath {
		t.Errorf("found %+v", f)
	}
	if size, sum := fileSHA256(t, f.Path); size != basic32PDBSize || sum != basic32PDBSHA256 {
		t.Errorf("expanded %d bytes sha256 %s, want CATALOG.md's %d %s", size, sum, basic32PDBSize, basic32PDBSHA256)
	}
	if !last.Done || last.Bytes != 1185826 { // CATALOG.md: basic32.pd_ is 1185826 bytes
		t.Errorf("progress %+v", last)
	}
	if files := cacheFiles(t, cache); !slices.Equal(files, []string{"basic32.pdb/34060D222DBB44E5AA72243CE8326C2F2/basic32.pdb"}) {
		t.Errorf("cache holds %q", files)
	}

	// The same file compressed in a local store expands into the downstream store.
	local := t.TempDir()
	linkInto(t, pd, filepath.Join(local, "basic32.pdb", "34060D222DBB44E5AA72243CE8326C2F2", "basic32.pd_"))
	cache2 := t.TempDir()
	got, err := NewClient(ParsePath("srv*"+cache2+"*"+local), Options{}).Find(context.Background(), key)
	if err != nil || got != filepath.Join(cache2, "basic32.pdb", "34060D222DBB44E5AA72243CE8326C2F2", "basic32.pdb") {
		t.Fatalf("local .pd_: %q, %v", got, err)
	}
	if _, sum := fileSHA256(t, got); sum != basic32PDBSHA256 {
		t.Errorf("local .pd_ expanded to sha256 %s", sum)
	}
}

// linkInto makes dst (and its directories) a symbolic link to the fixture src, so that test stores
// never copy fixture bytes.
func linkInto(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(src, dst); err != nil {
		t.Skipf("symbolic links: %v", err)
	}
}

func writeFile(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestFilePtr(t *testing.T) {
	repo := corpus.Path(t, "test-pdb-repository")
	fx := repoFixtures(t)[0] // amdppm.pdb
	real := filepath.Join(repo, filepath.FromSlash(fx.rel))
	key := Key{Name: "redirect.pdb", ID: "ABCDEF1", File: "amdppm.pdb"}

	// Local store: PATH: names the file elsewhere; with no downstream store it is used in place,
	// with one it is copied there ("SymSrv will retrieve the actual files directly from their sources").
	local := t.TempDir()
	writeFile(t, filepath.Join(local, "redirect.pdb", "ABCDEF1", "file.ptr"), "PATH:"+real+"\r\n")
	if got, err := NewClient(ParsePath("srv*"+local), Options{}).Find(context.Background(), key); err != nil || got != real {
		t.Errorf("local file.ptr: %q, %v", got, err)
	}
	cache := t.TempDir()
	got, err := NewClient(ParsePath("srv*"+cache+"*"+local), Options{}).Find(context.Background(), key)
	if _, sum := fileSHA256(t, got); err != nil || sum != fx.sha256 || !strings.HasPrefix(got, cache) {
		t.Errorf("local file.ptr with a cache: %q, %v", got, err)
	}
	// A bare path (no PATH:) relative to the file.ptr's directory.
	linkInto(t, real, filepath.Join(local, "elsewhere", "amdppm.pdb"))
	writeFile(t, filepath.Join(local, "rel.pdb", "ABCDEF1", "file.ptr"), "../../elsewhere/amdppm.pdb\n")
	rel := Key{Name: "rel.pdb", ID: "ABCDEF1", File: "amdppm.pdb"}
	if got, err := NewClient(ParsePath(local), Options{}).Find(context.Background(), rel); err != nil || got != filepath.Join(local, "elsewhere", "amdppm.pdb") {
		t.Errorf("relative file.ptr: %q, %v", got, err)
	}
	// A target that does not exist is a miss saying so.
	writeFile(t, filepath.Join(local, "dangling.pdb", "ABCDEF1", "file.ptr"), "PATH:/nonexistent/x.pdb")
	if _, err := NewClient(ParsePath(local), Options{}).Find(context.Background(), Key{Name: "dangling.pdb", ID: "ABCDEF1"}); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("dangling file.ptr: %v", err)
	}
	// MSG: means not available: a miss carrying the message.
	writeFile(t, filepath.Join(local, "gone.pdb", "ABCDEF1", "file.ptr"), "MSG: withdrawn by the publisher")
	_, err = NewClient(ParsePath("srv*"+local), Options{}).Find(context.Background(), Key{Name: "gone.pdb", ID: "ABCDEF1"})
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "withdrawn by the publisher") {
		t.Errorf("MSG: %v", err)
	}

	// HTTP store: a relative PATH: is resolved against the file.ptr's URL.
	srv := newStoreServer(t, repo)
	srv.handle("/redirect.pdb/ABCDEF1/file.ptr", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "PATH:../../amdppm.pdb/1C19FDDB27BB3399D9B45973EFEAFCF31/amdppm.pdb")
	})
	cache = t.TempDir()
	c := NewClient(ParsePath("srv*"+cache+"*"+srv.URL), Options{})
	f, err := c.Locate(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	if _, sum := fileSHA256(t, f.Path); sum != fx.sha256 || f.Path != filepath.Join(cache, "redirect.pdb", "ABCDEF1", "amdppm.pdb") ||
		f.Source != srv.URL+"/amdppm.pdb/1C19FDDB27BB3399D9B45973EFEAFCF31/amdppm.pdb" {
		t.Errorf("HTTP file.ptr: %+v", f)
	}
	// A remote file.ptr may not send us to a local path.
	srv.handle("/evil.pdb/ABCDEF1/file.ptr", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "PATH:/etc/passwd") })
	if _, err := c.Find(context.Background(), Key{Name: "evil.pdb", ID: "ABCDEF1"}); err == nil || !strings.Contains(err.Error(), "may only point to URLs") {
		t.Errorf("remote file.ptr to a local path: %v", err)
	}
	srv.handle("/gone.pdb/ABCDEF1/file.ptr", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "MSG:not here") })
	if _, err := c.Find(context.Background(), Key{Name: "gone.pdb", ID: "ABCDEF1"}); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "not here") {
		t.Errorf("remote MSG: %v", err)
	}
}

func TestMaxDownload(t *testing.T) {
	srv := newStoreServer(t, corpus.Path(t, "test-pdb-repository"))
	cache := t.TempDir()
	c := NewClient(ParsePath("srv*"+cache+"*"+srv.URL), Options{MaxDownload: 100000})
	_, err := c.Find(context.Background(), repoFixtures(t)[0].key)
	if err == nil || !strings.Contains(err.Error(), "674816 bytes, more than the 100000-byte limit") {
		t.Errorf("too large: %v", err)
	}
	// Without a Content-Length the count stops the transfer.
	key := repoFixtures(t)[0].key
	srv.handle("/"+key.Path(), func(w http.ResponseWriter, r *http.Request) {
		for range 20 {
			w.Write(make([]byte, 10000))
			w.(http.Flusher).Flush()
		}
	})
	if _, err := c.Find(context.Background(), key); err == nil || !strings.Contains(err.Error(), "more than the 100000-byte limit") {
		t.Errorf("too large, chunked: %v", err)
	}
	if files := cacheFiles(t, cache); len(files) != 0 {
		t.Errorf("cache holds %q", files)
	}
}

func TestLocalStores(t *testing.T) {
	repo := corpus.Path(t, "test-pdb-repository")
	fx := repoFixtures(t)
	ctx := context.Background()

	// The real store as a plain directory and as srv*STORE: found in place, case ignored.
	for _, p := range []string{repo, "srv*" + repo} {
		c := NewClient(ParsePath(p), Options{})
		for _, f := range fx {
			got, err := c.Find(ctx, f.key)
			if err != nil || got != filepath.Join(repo, filepath.FromSlash(f.rel)) {
				t.Errorf("%s: %s: %q, %v", p, f.key, got, err)
			}
		}
	}

	// Two-tier store: index2.txt at the root, files below the first two characters of the name
	// ("Symbol Store Folder Tree").
	two := t.TempDir()
	writeFile(t, filepath.Join(two, "index2.txt"), "")
	linkInto(t, filepath.Join(repo, filepath.FromSlash(fx[0].rel)), filepath.Join(two, "am", filepath.FromSlash(fx[0].rel)))
	if got, err := NewClient(ParsePath(two), Options{}).Find(ctx, fx[0].key); err != nil || !strings.HasPrefix(got, filepath.Join(two, "am")) {
		t.Errorf("two-tier: %q, %v", got, err)
	}

	// Cascading stores: srv*A*B*C with the file in C is copied into B and A; A's copy is used.
	a, b := t.TempDir(), t.TempDir()
	f, err := NewClient(ParsePath("srv*"+a+"*"+b+"*"+repo), Options{}).Locate(ctx, fx[2].key)
	if err != nil || f.Path != filepath.Join(a, filepath.FromSlash(fx[2].key.Path())) || f.Source != repo || f.Downloaded {
		t.Errorf("cascade: %+v, %v", f, err)
	}
	for _, d := range []string{a, b} {
		if _, sum := fileSHA256(t, filepath.Join(d, filepath.FromSlash(fx[2].key.Path()))); sum != fx[2].sha256 {
			t.Errorf("cascade copy in %s: sha256 %s", d, sum)
		}
	}

	// cache*DIR caches keyed finds of the elements to its right.
	cache := t.TempDir()
	if got, err := NewClient(ParsePath("cache*"+cache+";"+repo), Options{}).Find(ctx, fx[1].key); err != nil || got != filepath.Join(cache, filepath.FromSlash(fx[1].key.Path())) {
		t.Errorf("cache*: %q, %v", got, err)
	}
	// A compressed file that cannot be expanded is a failure; the search goes on.
	broken := t.TempDir()
	writeFile(t, filepath.Join(broken, filepath.FromSlash(strings.TrimSuffix(fx[0].rel, "b")+"_")), "not a cabinet")
	if got, err := NewClient(ParsePath("srv*"+t.TempDir()+"*"+broken+";"+repo), Options{}).Find(ctx, fx[0].key); err != nil || !strings.HasPrefix(got, repo) {
		t.Errorf("broken .pd_ then the real store: %q, %v", got, err)
	}
	_, err = NewClient(ParsePath("srv*"+t.TempDir()+"*"+broken), Options{}).Find(ctx, fx[0].key)
	if err == nil || errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), `signature is 6e 6f 74 20, want "MSCF"`) {
		t.Errorf("broken .pd_ alone: %v", err)
	}

	// ... but not the elements to its left.
	cache = t.TempDir()
	if got, err := NewClient(ParsePath(repo+";cache*"+cache), Options{}).Find(ctx, fx[1].key); err != nil || !strings.HasPrefix(got, repo) || len(cacheFiles(t, cache)) != 0 {
		t.Errorf("cache* on the right: %q, %v", got, err)
	}
}

func TestFlatDirectory(t *testing.T) {
	repo := corpus.Path(t, "test-pdb-repository")
	fx := repoFixtures(t)[0]
	real := filepath.Join(repo, filepath.FromSlash(fx.rel))
	dir := t.TempDir()
	linkInto(t, real, filepath.Join(dir, "symbols", "sys", "AMDPPM.PDB"))
	key := fx.key
	key.ImageExt = "sys"
	cache := t.TempDir()
	p := ParsePath("cache*" + cache + ";" + dir)

	f, err := NewClient(p, Options{}).Locate(context.Background(), key)
	if err != nil || !f.NameOnly || f.Path != filepath.Join(dir, "symbols", "sys", "AMDPPM.PDB") {
		t.Errorf("flat: %+v, %v", f, err)
	}
	if files := cacheFiles(t, cache); len(files) != 0 {
		t.Errorf("a name-only match was cached: %q", files)
	}
	var asked []string
	reject := func(k Key, path string) error {
		asked = append(asked, path)
		return errors.New("PDB GUID mismatch")
	}
	_, err = NewClient(p, Options{Verify: reject}).Find(context.Background(), key)
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "rejected: PDB GUID mismatch") || len(asked) != 1 {
		t.Errorf("rejected flat match: %v (asked %q)", err, asked)
	}
	// Without ImageExt only DIR itself is searched by name.
	if _, err := NewClient(p, Options{}).Find(context.Background(), fx.key); !errors.Is(err, ErrNotFound) {
		t.Errorf("without ImageExt: %v", err)
	}
}

func TestCacheStarWithServer(t *testing.T) {
	srv := newStoreServer(t, corpus.Path(t, "test-pdb-repository"))
	fx := repoFixtures(t)[3]
	cache := t.TempDir()
	// srv*URL has no downstream store of its own: the cache* to its left takes the download.
	got, err := NewClient(ParsePath("cache*"+cache+";srv*"+srv.URL), Options{DefaultCache: t.TempDir()}).Find(context.Background(), fx.key)
	if err != nil || got != filepath.Join(cache, filepath.FromSlash(fx.key.Path())) {
		t.Errorf("cache*;srv*URL: %q, %v", got, err)
	}
	// With neither, the default downstream store does.
	def := t.TempDir()
	got, err = NewClient(ParsePath("srv*"+srv.URL), Options{DefaultCache: def}).Find(context.Background(), fx.key)
	if err != nil || got != filepath.Join(def, filepath.FromSlash(fx.key.Path())) {
		t.Errorf("srv*URL: %q, %v", got, err)
	}
	// srv**URL names the default downstream store explicitly; .symfix's cache overrides Options.
	sym := t.TempDir()
	p := ParsePath("srv**" + srv.URL)
	p.DefaultCache = sym
	got, err = NewClient(p, Options{DefaultCache: def}).Find(context.Background(), repoFixtures(t)[2].key)
	if err != nil || !strings.HasPrefix(got, sym) {
		t.Errorf("srv**URL with a .symfix cache: %q, %v", got, err)
	}
}

func TestWindowsPathsSkipped(t *testing.T) {
	if os.PathSeparator == '\\' {
		t.Skip("drive paths are reachable on Windows")
	}
	srv := newStoreServer(t, corpus.Path(t, "test-pdb-repository"))
	def := t.TempDir()
	wd := t.TempDir()
	t.Chdir(wd)
	// A Windows _NT_SYMBOL_PATH: the C:\ cache is skipped and the default downstream store used.
	c := NewClient(ParsePath(`c:\mysyms;srv*C:\symbols*`+srv.URL+`;cache*D:\c`), Options{DefaultCache: def})
	got, err := c.Find(context.Background(), repoFixtures(t)[1].key)
	if err != nil || !strings.HasPrefix(got, def) {
		t.Errorf("%q, %v", got, err)
	}
	if entries, _ := os.ReadDir(wd); len(entries) != 0 {
		t.Errorf("created %v in the working directory", entries)
	}
}

// failTransport answers every request with 404 and records it: it proves which URLs a path
// leads to without contacting any real server.
type failTransport struct {
	mu   sync.Mutex
	urls []string
}

func (f *failTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	f.mu.Lock()
	f.urls = append(f.urls, r.URL.String())
	f.mu.Unlock()
	return &http.Response{StatusCode: 404, Body: http.NoBody, Request: r, Header: http.Header{}}, nil
}

func TestBareSrvAsksMicrosoft(t *testing.T) {
	ft := &failTransport{}
	def := t.TempDir()
	c := NewClient(Symfix(Path{}, def, false), Options{HTTPClient: &http.Client{Transport: ft}})
	key := PDBKey("ntkrnlmp.pdb", guidBytes(t, "3844DBB920174967BE7AA4A2C20430FA"), 2)
	if _, err := c.Find(context.Background(), key); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
	want := []string{
		MicrosoftSymbolServer + "/index2.txt",
		MicrosoftSymbolServer + "/ntkrnlmp.pdb/3844DBB920174967BE7AA4A2C20430FA2/ntkrnlmp.pdb",
		MicrosoftSymbolServer + "/ntkrnlmp.pdb/3844dbb920174967be7aa4a2c20430fa2/ntkrnlmp.pdb",
		MicrosoftSymbolServer + "/ntkrnlmp.pdb/3844DBB920174967BE7AA4A2C20430FA2/ntkrnlmp.pd_",
		MicrosoftSymbolServer + "/ntkrnlmp.pdb/3844DBB920174967BE7AA4A2C20430FA2/file.ptr",
	}
	if !slices.Equal(ft.urls, want) {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(ft.urls, "\n"), strings.Join(want, "\n"))
	}
}

func TestTwoTierServer(t *testing.T) {
	repo := corpus.Path(t, "test-pdb-repository")
	fx := repoFixtures(t)[3]
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "index2.txt"), "two tiers")
	linkInto(t, filepath.Join(repo, filepath.FromSlash(fx.rel)), filepath.Join(root, "us", filepath.FromSlash(fx.rel)))
	srv := newStoreServer(t, root)
	cache := t.TempDir()
	got, err := NewClient(ParsePath("srv*"+cache+"*"+srv.URL), Options{}).Find(context.Background(), fx.key)
	if err != nil || got != filepath.Join(cache, filepath.FromSlash(fx.key.Path())) {
		t.Fatalf("%q, %v (requests %q)", got, err, srv.log())
	}
	if _, sum := fileSHA256(t, got); sum != fx.sha256 {
		t.Errorf("sha256 %s", sum)
	}
	if srv.count("/us/"+fx.rel) != 1 {
		t.Errorf("requests %q", srv.log())
	}
}

func TestSharedLookupsAndCancel(t *testing.T) {
	srv := newStoreServer(t, corpus.Path(t, "test-pdb-repository"))
	fx := repoFixtures(t)[2]
	c := NewClient(ParsePath("srv*"+t.TempDir()+"*"+srv.URL), Options{})
	keys := slices.Repeat([]Key{fx.key}, 8)
	for _, r := range c.FindAll(context.Background(), keys, 8) {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	// Concurrent lookups of one key share a download; later ones hit the cache.
	if n := srv.count("/Wdf01000.sys/a9a9d36ed1000/Wdf01000.sys"); n != 1 {
		t.Errorf("file downloaded %d times", n)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c2 := NewClient(ParsePath("srv*"+t.TempDir()+"*"+srv.URL), Options{})
	if _, err := c2.Find(ctx, repoFixtures(t)[3].key); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	if _, err := c2.Find(context.Background(), Key{Name: "../x", ID: "1"}); err == nil {
		t.Error("invalid key accepted")
	}
	if r := c2.FindAll(context.Background(), nil, 4); len(r) != 0 {
		t.Errorf("FindAll of nothing: %v", r)
	}
}
