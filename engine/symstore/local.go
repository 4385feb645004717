package symstore

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// hitKind says what a local store holds for a key.
type hitKind uint8

const (
	hitNone       hitKind = iota
	hitFile               // the file itself
	hitCompressed         // name.pd_: a cabinet to decompress into a downstream store
	hitPointer            // file.ptr naming a file that exists
)

type localHit struct {
	kind hitKind
	path string // the file, the compressed file, or the file.ptr's target
	note string // with hitNone: why a file.ptr did not lead anywhere
}

// maxFilePtr bounds a file.ptr read: it holds one path or message.
const maxFilePtr = 64 << 10

// resolveFold joins parts below root, matching each part case-insensitively against what exists
// (store keys are case-insensitive; SSQP "Encoding and case sensitivity"). ok is false when some
// part exists in no spelling. The exact spelling is tried first, so a directory is listed only
// when its case differs.
func resolveFold(root string, parts ...string) (string, bool) {
	cur := root
	for _, part := range parts {
		next := filepath.Join(cur, part)
		if _, err := os.Lstat(next); err == nil {
			cur = next
			continue
		}
		entries, err := os.ReadDir(cur)
		if err != nil {
			return "", false
		}
		found := false
		for _, e := range entries {
			if strings.EqualFold(e.Name(), part) {
				cur, found = filepath.Join(cur, e.Name()), true
				break
			}
		}
		if !found {
			return "", false
		}
	}
	return cur, true
}

// twoTier reports a two-tier store: index2.txt at the root means files live below a directory
// named after the first two characters of the file name ("Symbol Store Folder Tree"; FORMATS.md §7.6).
// Only the documented spelling is looked for: listing a large store root on every lookup would
// cost more than it could find.
func twoTier(root string) bool {
	_, err := os.Stat(filepath.Join(root, "index2.txt"))
	return err == nil
}

// tierDir is the two-tier intermediate directory for name: its first two characters.
func tierDir(name string) string {
	if len(name) <= 2 {
		return name
	}
	return name[:2]
}

// indexParts is the key's index directory below the root of a store (one or two tiers).
func indexParts(k Key, twoTiers bool) []string {
	if twoTiers {
		return []string{tierDir(k.Name), k.Name, k.ID}
	}
	return []string{k.Name, k.ID}
}

// lookupStore looks for k in the local store at root: the file, its compressed form, then a
// file.ptr ("Symbol Storage Format": the lookup directory holds the file or a pointer to it).
func lookupStore(root string, k Key) localHit {
	dir, ok := resolveFold(root, indexParts(k, twoTier(root))...)
	if !ok {
		return localHit{}
	}
	if p, ok := resolveFold(dir, k.FileName()); ok && isFile(p) {
		return localHit{kind: hitFile, path: p}
	}
	if p, ok := resolveFold(dir, compressedName(k.FileName())); ok && isFile(p) {
		return localHit{kind: hitCompressed, path: p}
	}
	ptr, ok := resolveFold(dir, "file.ptr")
	if !ok {
		return localHit{}
	}
	b, err := readSmall(ptr)
	if err != nil {
		return localHit{note: err.Error()}
	}
	target, msg := parseFilePtr(b)
	switch {
	case msg != "":
		return localHit{note: fmt.Sprintf("%s: %s", ptr, msg)}
	case target == "":
		return localHit{note: ptr + ": empty file.ptr"}
	}
	local, ok := localPath(target)
	if !ok {
		return localHit{note: fmt.Sprintf("%s: points to %s, not reachable on this system", ptr, target)}
	}
	if !filepath.IsAbs(local) {
		local = filepath.Join(dir, local)
	}
	if !isFile(local) {
		return localHit{note: fmt.Sprintf("%s: points to %s, which does not exist", ptr, target)}
	}
	return localHit{kind: hitPointer, path: local}
}

// lookupFlat looks for k's file by name in a plain directory, as dbghelp does: DIR/symbols/EXT,
// DIR/EXT, then DIR itself ("Symbol path for Windows debuggers"), EXT being the image's extension.
func lookupFlat(dir string, k Key) string {
	var tries [][]string
	if ext := strings.TrimPrefix(k.ImageExt, "."); ext != "" {
		tries = append(tries, []string{"symbols", ext, k.FileName()}, []string{ext, k.FileName()})
	}
	tries = append(tries, []string{k.FileName()})
	for _, parts := range tries {
		if p, ok := resolveFold(dir, parts...); ok && isFile(p) {
			return p
		}
	}
	return ""
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

func readSmall(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxFilePtr+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxFilePtr {
		return nil, fmt.Errorf("symstore: %s: larger than %d bytes, not a file.ptr", p, maxFilePtr)
	}
	return b, nil
}

// parseFilePtr reads a file.ptr: "PATH:<path>" or a bare path gives target, "MSG:<text>" says
// the file is not available (FORMATS.md §7.6). Only the first line counts.
func parseFilePtr(b []byte) (target, msg string) {
	if i := bytes.IndexAny(b, "\r\n"); i >= 0 {
		b = b[:i]
	}
	s := strings.TrimSpace(strings.TrimPrefix(string(b), "\ufeff"))
	switch {
	case len(s) >= 4 && strings.EqualFold(s[:4], "MSG:"):
		msg = strings.TrimSpace(s[4:])
		if msg == "" {
			msg = "file not available (file.ptr MSG:)"
		}
		return "", msg
	case len(s) >= 5 && strings.EqualFold(s[:5], "PATH:"):
		return strings.TrimSpace(s[5:]), ""
	}
	return s, ""
}

// storeFile is where k goes in the store at root, reusing directories that exist in another
// case so that a cache never holds two spellings of one key.
func storeFile(root string, k Key) string {
	cur := root
	for _, part := range append(indexParts(k, twoTier(root)), k.FileName()) {
		if p, ok := resolveFold(cur, part); ok {
			cur = p
		} else {
			cur = filepath.Join(cur, part)
		}
	}
	return cur
}

// writeAtomic creates dst through a temporary file in root, so that a reader (or another wdbg)
// never sees a partial file: fill writes the content, then the file is renamed into place.
func writeAtomic(root, dst string, fill func(w io.Writer) error) error {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(root, ".wdbg-*.tmp")
	if err != nil {
		return err
	}
	err = fill(tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.MkdirAll(filepath.Dir(dst), 0o755)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), dst)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// copyInto copies src into the store at root under k and returns the new file's path.
func copyInto(root string, k Key, src string) (string, error) {
	dst := storeFile(root, k)
	if same(src, dst) {
		return dst, nil
	}
	err := writeAtomic(root, dst, func(w io.Writer) error {
		f, err := os.Open(src)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(w, f)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("symstore: caching %s in %s: %w", k, root, err)
	}
	return dst, nil
}

// decompressInto decompresses the compressed store file src into the store at root under k.
func decompressInto(root string, k Key, src string, limit int64) (string, error) {
	f, err := os.Open(src)
	if err != nil {
		return "", err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	dst := storeFile(root, k)
	err = writeAtomic(root, dst, func(w io.Writer) error {
		_, err := Decompress(f, fi.Size(), k.FileName(), w, limit)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("decompressing %s: %w", src, err)
	}
	return dst, nil
}

func same(a, b string) bool {
	fa, err := os.Stat(a)
	if err != nil {
		return false
	}
	fb, err := os.Stat(b)
	return err == nil && os.SameFile(fa, fb)
}
