package symstore

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Defaults for Options.
const (
	DefaultTimeout     = 30 * time.Second
	DefaultMaxDownload = 4 << 30 // the largest public PDBs are a few GB
	DefaultWorkers     = 4
)

// Options tune a Client; the zero value works.
type Options struct {
	// DefaultCache is the default downstream store when the path's .symfix cache is not set
	// ("" = DefaultCacheDir()).
	DefaultCache string
	// HTTPClient makes the requests (nil = a client on http.DefaultTransport, which honours
	// HTTPS_PROXY). Its own Timeout, if any, bounds whole transfers.
	HTTPClient *http.Client
	// Timeout bounds the wait for a response and each gap in a body (0 = DefaultTimeout).
	Timeout time.Duration
	// MaxDownload refuses larger files, downloaded or decompressed (0 = DefaultMaxDownload).
	MaxDownload int64
	// Progress, when set, is called as downloads advance, from several goroutines at once when
	// FindAll runs in parallel. The engine never prints; the caller draws a progress line.
	Progress func(Progress)
	// Verify, when set, checks a file found by name only in a plain directory (not under its
	// key): an error rejects it and the search goes on, as dbghelp skips a mismatched PDB.
	Verify func(key Key, path string) error
}

// Found describes where a lookup found a file.
type Found struct {
	Key        Key
	Path       string // the local file to open
	Source     string // the directory, store or URL that had it
	Element    int    // index in Path.Elements of the element that had it
	Downloaded bool   // fetched from an HTTP(S) store by this lookup
	NameOnly   bool   // matched by file name in a plain directory, not under its key
}

// ErrNotFound is matched (errors.Is) by the error of a lookup that every location answered
// with "not here".
var ErrNotFound = errors.New("symstore: not found")

// NotFoundError is a clean miss: no location had the file and none failed.
type NotFoundError struct {
	Key      Key
	Searched []string // the directories, stores and URLs asked, in order
	Notes    []string // file.ptr messages, rejected candidates, skipped caches
}

func (e *NotFoundError) Error() string {
	s := fmt.Sprintf("symstore: %s not found (%d locations searched)", e.Key, len(e.Searched))
	if len(e.Notes) > 0 {
		s += ": " + strings.Join(e.Notes, "; ")
	}
	return s
}

func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// DefaultCacheDir is the default downstream store when neither .symfix nor Options name one:
// $DBGHELP_HOMEDIR/sym when that is set (dbghelp's home directory variable, "Advanced SymSrv
// Use"), else os.UserCacheDir()/wdbg/symbols.
func DefaultCacheDir() (string, error) {
	if h := os.Getenv("DBGHELP_HOMEDIR"); h != "" {
		if p, ok := localPath(h); ok {
			return filepath.Join(p, "sym"), nil
		}
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("symstore: no default downstream store (%v); name a cache: srv*DIR*URL", err)
	}
	return filepath.Join(d, "wdbg", "symbols"), nil
}

// Client finds files along a symbol path. It is safe for concurrent use.
type Client struct {
	opts  Options
	fetch fetcher

	mu     sync.Mutex
	path   Path
	gen    int // bumped by SetPath and ForgetMisses: results of older searches are not remembered
	misses map[string]*NotFoundError
	tiers  map[string]*tierProbe
	flight map[string]*flight
}

type flight struct {
	done  chan struct{}
	found Found
	err   error
}

// tierProbe remembers whether an HTTP store is two-tier (serves index2.txt).
type tierProbe struct {
	mu   sync.Mutex
	done bool
	two  bool
}

// NewClient makes a client for the path.
func NewClient(p Path, opts Options) *Client {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxDownload <= 0 {
		opts.MaxDownload = DefaultMaxDownload
	}
	hc := opts.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	return &Client{
		opts:   opts,
		fetch:  fetcher{client: hc, timeout: opts.Timeout, progress: opts.Progress},
		path:   p,
		misses: map[string]*NotFoundError{},
		tiers:  map[string]*tierProbe{},
		flight: map[string]*flight{},
	}
}

// Path is the client's symbol path.
func (c *Client) Path() Path {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.path
}

// SetPath changes the symbol path and forgets the misses of the old one.
func (c *Client) SetPath(p Path) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.path = p
	c.gen++
	c.misses = map[string]*NotFoundError{}
	c.tiers = map[string]*tierProbe{}
}

// ForgetMisses empties the session's negative cache (`.reload` asks again).
func (c *Client) ForgetMisses() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.misses = map[string]*NotFoundError{}
}

// Find returns the local path of the file with the given key, downloading it when needed.
func (c *Client) Find(ctx context.Context, key Key) (string, error) {
	f, err := c.Locate(ctx, key)
	return f.Path, err
}

// Locate is Find with the details of where the file came from. A key that every location
// answered "not here" for is remembered for the session and not asked again; errors (a server
// that failed) are not remembered. Concurrent lookups of one key share one search.
func (c *Client) Locate(ctx context.Context, key Key) (Found, error) {
	if err := key.Validate(); err != nil {
		return Found{}, err
	}
	id := strings.ToLower(key.Path() + "|" + key.ImageExt)
	c.mu.Lock()
	if miss, ok := c.misses[id]; ok {
		c.mu.Unlock()
		return Found{}, miss
	}
	if fl, ok := c.flight[id]; ok {
		c.mu.Unlock()
		select {
		case <-fl.done:
			return fl.found, fl.err
		case <-ctx.Done():
			return Found{}, ctx.Err()
		}
	}
	fl := &flight{done: make(chan struct{})}
	c.flight[id] = fl
	p, gen := c.path, c.gen
	c.mu.Unlock()

	fl.found, fl.err = c.search(ctx, p, key)

	c.mu.Lock()
	delete(c.flight, id)
	var miss *NotFoundError
	if errors.As(fl.err, &miss) && c.gen == gen {
		c.misses[id] = miss
	}
	c.mu.Unlock()
	close(fl.done)
	return fl.found, fl.err
}

// Result is the outcome of one key of FindAll.
type Result struct {
	Found
	Err error
}

// FindAll looks up keys with at most workers lookups at a time (<= 0 = DefaultWorkers), so that
// downloads for many modules overlap. Results are in the order of keys.
func (c *Client) FindAll(ctx context.Context, keys []Key, workers int) []Result {
	res := make([]Result, len(keys))
	if workers <= 0 {
		workers = DefaultWorkers
	}
	workers = min(workers, len(keys))
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				f, err := c.Locate(ctx, keys[i])
				f.Key = keys[i]
				res[i] = Result{Found: f, Err: err}
			}
		})
	}
	for i := range keys {
		next <- i
	}
	close(next)
	wg.Wait()
	return res
}

// defaultCache is the default downstream store for path p.
func (c *Client) defaultCache(p Path) (string, error) {
	for _, d := range []string{p.DefaultCache, c.opts.DefaultCache} {
		if d == "" || isHTTP(d) {
			continue
		}
		if lp, ok := localPath(d); ok {
			return lp, nil
		}
	}
	return DefaultCacheDir()
}
