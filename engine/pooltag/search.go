package pooltag

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"strings"
)

// Candidate is a place a pooltag.txt may be.
type Candidate struct {
	Path string `json:"path"`
	// Origin says why the path is searched: "-pooltag", "$WDBG_POOLTAG", "next to wdbg",
	// "Windows Kits", "XDG data".
	Origin string `json:"origin"`
	// Required is set for a file the user named with -pooltag: failing to read it is an
	// error, not a quiet skip.
	Required bool `json:"required,omitempty"`
}

// Env is what SearchPaths needs from the system, so that tests can give a fake one.
type Env struct {
	GOOS       string              // "windows" selects backslash paths and ';' list separators
	Getenv     func(string) string // environment lookup
	Executable string              // path of the running wdbg binary ("" if unknown)
	HomeDir    string              // the user's home directory ("" if unknown)
}

// SystemEnv is the Env of the running process.
func SystemEnv() Env {
	exe, _ := os.Executable()
	home, _ := os.UserHomeDir()
	return Env{GOOS: runtime.GOOS, Getenv: os.Getenv, Executable: exe, HomeDir: home}
}

// PooltagEnvVar names the environment variable holding extra pooltag.txt paths (a list in
// the platform's path-list syntax).
const PooltagEnvVar = "WDBG_POOLTAG"

// SearchPaths lists, in precedence order, the pooltag.txt files wdbg reads (issue 5,
// WINDBG-SPEC.md §3.8): the file given with -pooltag (explicit, may be ""), the files in
// $WDBG_POOLTAG, then the places WinDbg uses — triage\pooltag.txt next to the executable and
// in the Windows Kits debugger folders (%ProgramFiles(x86)% then %ProgramFiles%, the x64,
// x86 and arm64 debuggers in that order) — and $XDG_DATA_HOME/wdbg/pooltag.txt (default
// ~/.local/share). The built-in list comes after all of them. Paths are not checked for
// existence here; duplicates are dropped.
func SearchPaths(explicit string, env Env) []Candidate {
	getenv := env.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	win := env.GOOS == "windows"
	var out []Candidate
	seen := map[string]bool{}
	add := func(path, origin string, required bool) {
		if path == "" {
			return
		}
		key := path
		if win {
			key = strings.ToLower(strings.ReplaceAll(path, "/", `\`))
		}
		if seen[key] {
			return
		}
		seen[key] = true
		out = append(out, Candidate{Path: path, Origin: origin, Required: required})
	}

	add(explicit, "-pooltag", true)
	listSep := ":"
	if win {
		listSep = ";"
	}
	for _, p := range strings.Split(getenv(PooltagEnvVar), listSep) {
		add(strings.TrimSpace(p), "$"+PooltagEnvVar, false)
	}
	if env.Executable != "" {
		add(joinPath(win, dirOf(win, env.Executable), "triage", "pooltag.txt"), "next to wdbg", false)
	}
	for _, v := range []string{"ProgramFiles(x86)", "ProgramFiles"} {
		root := getenv(v)
		if root == "" {
			continue
		}
		for _, arch := range []string{"x64", "x86", "arm64"} {
			add(joinPath(win, root, "Windows Kits", "10", "Debuggers", arch, "triage", "pooltag.txt"), "Windows Kits", false)
		}
	}
	// XDG Base Directory: a relative $XDG_DATA_HOME is invalid and ignored.
	data := getenv("XDG_DATA_HOME")
	if !isAbs(win, data) {
		data = ""
		if env.HomeDir != "" {
			data = joinPath(win, env.HomeDir, ".local", "share")
		}
	}
	if data != "" {
		add(joinPath(win, data, "wdbg", "pooltag.txt"), "XDG data", false)
	}
	return out
}

// joinPath joins path elements with the target's separator, whatever the host is.
func joinPath(win bool, elems ...string) string {
	sep := "/"
	if win {
		sep = `\`
	}
	var b strings.Builder
	for i, e := range elems {
		if i > 0 {
			e = strings.TrimLeft(e, `/\`)
			if b.Len() > 0 && !strings.HasSuffix(b.String(), "/") && !strings.HasSuffix(b.String(), `\`) {
				b.WriteString(sep)
			}
		}
		b.WriteString(e)
	}
	return b.String()
}

// dirOf is the directory part of path ("." when it has none).
func dirOf(win bool, path string) string {
	i := strings.LastIndex(path, "/")
	if win {
		i = max(i, strings.LastIndex(path, `\`))
	}
	switch {
	case i < 0:
		return "."
	case i == 0:
		return path[:1]
	case win && i == 2 && path[1] == ':':
		return path[:3] // C:\
	}
	return path[:i]
}

func isAbs(win bool, p string) bool {
	if win {
		return len(p) >= 3 && p[1] == ':' && (p[2] == '\\' || p[2] == '/') || strings.HasPrefix(p, `\\`)
	}
	return strings.HasPrefix(p, "/")
}

// FileReport tells what happened to one candidate file.
type FileReport struct {
	Candidate
	// Read is set when the file was opened and parsed; Entries counts what it gave.
	Read    bool `json:"read"`
	Entries int  `json:"entries"`
	// Missing is set when the file does not exist (the common case for most candidates).
	Missing bool `json:"missing,omitempty"`
	// Err is why an existing file could not be read.
	Err string `json:"error,omitempty"`
	// Errors are the malformed lines that were skipped; MoreErrors counts those not listed.
	Errors     []*ParseError `json:"errors,omitempty"`
	MoreErrors int           `json:"moreErrors,omitempty"`
}

// LoadReport tells which files a Database was built from.
type LoadReport struct {
	Files   []FileReport `json:"files"`
	Builtin int          `json:"builtin"` // entries taken from the built-in list
}

// ReadFiles are the reports of the files that were actually read, in precedence order.
func (r *LoadReport) ReadFiles() []FileReport {
	var out []FileReport
	for _, f := range r.Files {
		if f.Read {
			out = append(out, f)
		}
	}
	return out
}

// MaxFileSize bounds one pooltag.txt (Microsoft's is about 1 MB).
const MaxFileSize = 64 << 20

// Load builds a Database from the pooltag.txt files at paths (earlier ones take precedence)
// followed by the built-in list. Missing or unreadable files are skipped and reported.
func Load(paths ...string) (*Database, *LoadReport) {
	cands := make([]Candidate, len(paths))
	for i, p := range paths {
		cands[i] = Candidate{Path: p, Origin: "argument"}
	}
	db, rep, _ := LoadCandidates(cands)
	return db, rep
}

// LoadCandidates is Load for SearchPaths' result. The Database and report are always
// returned; the error is set when a Required file (the one named with -pooltag) could not
// be read.
func LoadCandidates(cands []Candidate) (*Database, *LoadReport, error) {
	rep := &LoadReport{}
	var lists [][]Entry
	var firstErr error
	for _, c := range cands {
		fr := FileReport{Candidate: c}
		p, err := parseFile(c.Path)
		if errors.Is(err, fs.ErrNotExist) {
			fr.Missing = true
			err = fmt.Errorf("pooltag file %s: not found", c.Path)
		}
		if err == nil {
			fr.Read, fr.Entries = true, len(p.Entries)
			fr.Errors, fr.MoreErrors = p.Errors, p.MoreErrors
			lists = append(lists, p.Entries)
		} else {
			if !fr.Missing {
				fr.Err = err.Error()
			}
			if c.Required && firstErr == nil {
				firstErr = err
			}
		}
		rep.Files = append(rep.Files, fr)
	}
	b := Builtin()
	rep.Builtin = len(b)
	lists = append(lists, b)
	return NewDatabase(lists...), rep, firstErr
}

func parseFile(path string) (*Parsed, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, fmt.Errorf("pooltag file %s: is a directory", path)
	}
	if st.Size() > MaxFileSize {
		return nil, fmt.Errorf("pooltag file %s: %d bytes, more than the %d accepted", path, st.Size(), MaxFileSize)
	}
	return Parse(f, path)
}
