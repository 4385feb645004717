package symstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"
)

// lookup is one search for one key along one path.
type lookup struct {
	c        *Client
	p        Path
	key      Key
	def      string // the default downstream store
	defErr   error  // why there is none
	miss     *NotFoundError
	failures []error
}

// search walks the path for key: first every local location in path order (offline first), then
// the HTTP(S) stores in path order.
func (c *Client) search(ctx context.Context, p Path, key Key) (Found, error) {
	l := &lookup{c: c, p: p, key: key, miss: &NotFoundError{Key: key}}
	l.def, l.defErr = c.defaultCache(p)
	if f, ok, err := l.local(ctx); ok || err != nil {
		return f, err
	}
	if f, ok, err := l.remote(ctx); ok || err != nil {
		return f, err
	}
	if len(l.failures) > 0 {
		return Found{}, fmt.Errorf("symstore: %s: %w", key, errors.Join(l.failures...))
	}
	return Found{}, l.miss
}

// dir maps a store or cache location to a local directory; "" is the default downstream store.
func (l *lookup) dir(s string) (string, bool) {
	if s == "" {
		return l.def, l.defErr == nil
	}
	if isHTTP(s) {
		return "", false
	}
	return localPath(s)
}

// cachesLeft are the cache* directories before element i: each caches what elements to its
// right find ("Symbol path for Windows debuggers", caching symbols locally).
func (l *lookup) cachesLeft(i int) []string {
	var out []string
	for _, e := range l.p.Elements[:i] {
		if e.Kind != CacheElement {
			continue
		}
		if d, ok := l.dir(e.Dir); ok && !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out
}

// downstream are the local stores a file found in store j of server element i is copied into:
// the chain's stores to its left, downstream first, then the caches before the element.
func (l *lookup) downstream(i, j int) []string {
	var out []string
	for _, s := range l.p.Elements[i].Stores[:j] {
		if d, ok := l.dir(s); ok && !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	for _, d := range l.cachesLeft(i) {
		if !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out
}

func (l *lookup) local(ctx context.Context) (Found, bool, error) {
	for i, e := range l.p.Elements {
		if err := ctx.Err(); err != nil {
			return Found{}, false, err
		}
		switch e.Kind {
		case CacheElement:
			if d, ok := l.dir(e.Dir); ok {
				if f, ok := l.tryStore(d, i, l.cachesLeft(i)); ok {
					return f, true, nil
				}
			}
		case DirElement:
			d, ok := l.dir(e.Dir)
			if !ok {
				continue
			}
			if f, ok := l.tryStore(d, i, l.cachesLeft(i)); ok {
				return f, true, nil
			}
			if f, ok := l.tryFlat(d, i); ok {
				return f, true, nil
			}
		case ServerElement:
			implicit := false // an HTTP store with no local store before it caches in the default store
			for j, s := range e.Stores {
				if isHTTP(s) {
					implicit = implicit || len(l.downstream(i, j)) == 0
					continue
				}
				if d, ok := l.dir(s); ok {
					if f, ok := l.tryStore(d, i, l.downstream(i, j)); ok {
						return f, true, nil
					}
				}
			}
			if implicit && l.defErr == nil {
				if f, ok := l.tryStore(l.def, i, l.cachesLeft(i)); ok {
					return f, true, nil
				}
			}
		}
	}
	return Found{}, false, nil
}

// tryFlat looks for the key's file by name in the plain directory d; Options.Verify vets it.
func (l *lookup) tryFlat(d string, elem int) (Found, bool) {
	p := lookupFlat(d, l.key)
	if p == "" {
		return Found{}, false
	}
	if l.c.opts.Verify != nil {
		if err := l.c.opts.Verify(l.key, p); err != nil {
			l.miss.Notes = append(l.miss.Notes, fmt.Sprintf("%s: rejected: %v", p, err))
			return Found{}, false
		}
	}
	return Found{Key: l.key, Path: p, Source: d, Element: elem, NameOnly: true}, true
}

// tryStore looks for the key in the local store dir and copies a hit into targets. A compressed
// file that cannot be expanded is a failure and the search goes on.
func (l *lookup) tryStore(dir string, elem int, targets []string) (Found, bool) {
	if !slices.Contains(l.miss.Searched, dir) {
		l.miss.Searched = append(l.miss.Searched, dir)
	}
	h := lookupStore(dir, l.key)
	switch h.kind {
	case hitNone:
		if h.note != "" {
			l.miss.Notes = append(l.miss.Notes, h.note)
		}
		return Found{}, false
	case hitCompressed:
		dsts := l.withDefault(targets)
		if len(dsts) == 0 {
			l.failures = append(l.failures, fmt.Errorf("%s is compressed but there is no downstream store to expand it into: %w", h.path, l.defErr))
			return Found{}, false
		}
		p, err := decompressInto(dsts[0], l.key, h.path, l.c.opts.MaxDownload)
		if err != nil {
			l.failures = append(l.failures, err)
			return Found{}, false
		}
		return l.deliver(p, dir, elem, dsts[1:], false, p), true
	}
	return l.deliver(h.path, dir, elem, targets, false, ""), true
}

// withDefault is targets, or the default downstream store when there are none: a file from an
// HTTP store or a compressed file always goes through a downstream store ("Advanced SymSrv Use").
func (l *lookup) withDefault(targets []string) []string {
	if len(targets) == 0 && l.defErr == nil {
		return []string{l.def}
	}
	return targets
}

// deliver copies the file at src into each target store. The path reported is first when given
// (the file already sits in the bottom-most downstream store), else the first copy made, else src.
// A store that cannot be written is skipped, as symsrv skips it.
func (l *lookup) deliver(src, source string, elem int, targets []string, downloaded bool, first string) Found {
	f := Found{Key: l.key, Path: src, Source: source, Element: elem, Downloaded: downloaded}
	for _, t := range targets {
		dst, err := copyInto(t, l.key, src)
		if err != nil {
			l.miss.Notes = append(l.miss.Notes, err.Error())
			continue
		}
		if first == "" {
			first = dst
		}
	}
	if first != "" {
		f.Path = first
	}
	return f
}

func (l *lookup) remote(ctx context.Context) (Found, bool, error) {
	for i, e := range l.p.Elements {
		if e.Kind != ServerElement {
			continue
		}
		for j, s := range e.Stores {
			if !isHTTP(s) {
				continue
			}
			dsts := l.withDefault(l.downstream(i, j))
			if len(dsts) == 0 {
				l.failures = append(l.failures, fmt.Errorf("%s: no downstream store to download into: %w", s, l.defErr))
				continue
			}
			f, ok, err := l.fetchFrom(ctx, s, i, dsts)
			switch {
			case ctx.Err() != nil:
				return Found{}, false, ctx.Err()
			case err != nil:
				l.failures = append(l.failures, err)
			case ok:
				return f, true, nil
			}
		}
	}
	return Found{}, false, nil
}

// errMiss ends a download that found nothing, so that writeAtomic leaves no file.
var errMiss = errors.New("miss")

// fetchFrom asks the HTTP store base for the key: the file in each spelling urls gives, then its
// compressed form and file.ptr in the WinDbg spelling only (symstore.exe writes those; stores
// that spell keys in lower case follow SSQP, which has neither), so that a miss costs 4-5
// requests. A hit lands in dsts[0] and is copied into the other downstream stores.
func (l *lookup) fetchFrom(ctx context.Context, base string, elem int, dsts []string) (Found, bool, error) {
	base = strings.TrimRight(base, "/")
	two, err := l.c.twoTierHTTP(ctx, base)
	if err != nil {
		return Found{}, false, err
	}
	root := dsts[0]
	dst := storeFile(root, l.key)
	limit := l.c.opts.MaxDownload
	parts := indexParts(l.key, two)

	for _, u := range l.urls(base, parts, l.key.FileName()) {
		err := writeAtomic(root, dst, func(w io.Writer) error {
			_, found, err := l.c.fetch.get(ctx, u, l.key, w, limit, true)
			if err == nil && !found {
				err = errMiss
			}
			return err
		})
		if err == errMiss {
			continue
		}
		if err != nil {
			return Found{}, false, err
		}
		return l.deliver(dst, u, elem, dsts[1:], true, dst), true, nil
	}

	for _, u := range l.urls(base, parts, compressedName(l.key.FileName()))[:1] {
		found, err := l.fetchCompressed(ctx, u, root, dst)
		if err != nil {
			return Found{}, false, err
		}
		if found {
			return l.deliver(dst, u, elem, dsts[1:], true, dst), true, nil
		}
	}

	for _, u := range l.urls(base, parts, "file.ptr")[:1] {
		var buf bytes.Buffer
		_, found, err := l.c.fetch.get(ctx, u, l.key, &buf, maxFilePtr, false)
		if err != nil {
			return Found{}, false, err
		}
		if !found {
			continue
		}
		target, msg := parseFilePtr(buf.Bytes())
		if msg != "" {
			l.miss.Notes = append(l.miss.Notes, u+": "+msg)
			return Found{}, false, nil
		}
		tu, err := pointerURL(u, target)
		if err != nil {
			return Found{}, false, &FetchError{URL: u, Err: err}
		}
		err = writeAtomic(root, dst, func(w io.Writer) error {
			_, found, err := l.c.fetch.get(ctx, tu, l.key, w, limit, true)
			if err == nil && !found {
				err = &FetchError{URL: tu, Status: 404}
			}
			return err
		})
		if err != nil {
			return Found{}, false, fmt.Errorf("%s points to %s: %w", u, tu, err)
		}
		return l.deliver(dst, tu, elem, dsts[1:], true, dst), true, nil
	}
	l.miss.Searched = append(l.miss.Searched, base)
	return Found{}, false, nil
}

// fetchCompressed downloads a compressed store file next to root and expands it to dst.
func (l *lookup) fetchCompressed(ctx context.Context, u, root, dst string) (bool, error) {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return false, err
	}
	tmp, err := os.CreateTemp(root, ".wdbg-*.cab")
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	_, found, err := l.c.fetch.get(ctx, u, l.key, tmp, l.c.opts.MaxDownload, true)
	if err != nil || !found {
		return false, err
	}
	if _, err := decompressInto(root, l.key, tmp.Name(), l.c.opts.MaxDownload); err != nil {
		return false, &FetchError{URL: u, Err: err}
	}
	return true, nil
}

// urls spells the request for file below the index directory parts of store base: as the key
// has it (WinDbg's case), then with the id in lower case (how stores mirrored from Microsoft's
// server spell image ids: Wdf01000.sys/a9a9d36ed1000/Wdf01000.sys), then all in lower case (SSQP),
// each only when it differs from those before.
func (l *lookup) urls(base string, parts []string, file string) []string {
	spell := func(lowerID, lowerAll bool) string {
		var b strings.Builder
		b.WriteString(base)
		last := len(parts) - 1 // the id
		for i, p := range append(slices.Clone(parts), file) {
			if lowerAll || lowerID && i == last {
				p = strings.ToLower(p)
			}
			b.WriteString("/")
			b.WriteString(url.PathEscape(p))
		}
		return b.String()
	}
	var out []string
	for _, u := range []string{spell(false, false), spell(true, false), spell(false, true)} {
		if !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	return out
}

// pointerURL resolves the target of a file.ptr served at ptrURL: an http(s) URL, or a path
// relative to the file.ptr's own URL. A local or UNC path named by a remote server is refused.
func pointerURL(ptrURL, target string) (string, error) {
	if target == "" {
		return "", errors.New("empty file.ptr")
	}
	if isHTTP(target) {
		return target, nil
	}
	if isWindowsPath(target) || strings.HasPrefix(target, "/") || strings.HasPrefix(target, `\`) {
		return "", fmt.Errorf("file.ptr names the local path %q; a remote store may only point to URLs", target)
	}
	base, err := url.Parse(ptrURL)
	if err != nil {
		return "", err
	}
	rel, err := url.Parse(strings.ReplaceAll(target, `\`, "/"))
	if err != nil {
		return "", fmt.Errorf("file.ptr target %q: %v", target, err)
	}
	return base.ResolveReference(rel).String(), nil
}

// twoTierHTTP asks an HTTP store once per session whether it serves index2.txt.
func (c *Client) twoTierHTTP(ctx context.Context, base string) (bool, error) {
	c.mu.Lock()
	probe := c.tiers[base]
	if probe == nil {
		probe = &tierProbe{}
		c.tiers[base] = probe
	}
	c.mu.Unlock()
	probe.mu.Lock()
	defer probe.mu.Unlock()
	if probe.done {
		return probe.two, nil
	}
	_, found, err := c.fetch.get(ctx, base+"/index2.txt", Key{}, io.Discard, 1<<20, false)
	if err != nil {
		return false, err
	}
	probe.done, probe.two = true, found
	return found, nil
}
