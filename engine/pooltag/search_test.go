package pooltag

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func fakeEnv(goos string, vars map[string]string, exe, home string) Env {
	return Env{GOOS: goos, Getenv: func(k string) string { return vars[k] }, Executable: exe, HomeDir: home}
}

func paths(cs []Candidate) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Origin+"|"+c.Path)
	}
	return out
}

// The order is issue 5's: -pooltag, $WDBG_POOLTAG, WinDbg's places (triage\pooltag.txt next
// to the debugger, the Windows Kits debugger folders), XDG data; the built-in list is last.
func TestSearchPathsWindows(t *testing.T) {
	env := fakeEnv("windows", map[string]string{
		"WDBG_POOLTAG":      `D:\tags\a.txt;;D:\tags\b.txt`,
		"ProgramFiles(x86)": `C:\Program Files (x86)`,
		"ProgramFiles":      `C:\Program Files\`,
	}, `C:\tools\wdbg\wdbg.exe`, `C:\Users\me`)
	got := paths(SearchPaths(`E:\mine.txt`, env))
	want := []string{
		`-pooltag|E:\mine.txt`,
		`$WDBG_POOLTAG|D:\tags\a.txt`,
		`$WDBG_POOLTAG|D:\tags\b.txt`,
		`next to wdbg|C:\tools\wdbg\triage\pooltag.txt`,
		`Windows Kits|C:\Program Files (x86)\Windows Kits\10\Debuggers\x64\triage\pooltag.txt`,
		`Windows Kits|C:\Program Files (x86)\Windows Kits\10\Debuggers\x86\triage\pooltag.txt`,
		`Windows Kits|C:\Program Files (x86)\Windows Kits\10\Debuggers\arm64\triage\pooltag.txt`,
		`Windows Kits|C:\Program Files\Windows Kits\10\Debuggers\x64\triage\pooltag.txt`,
		`Windows Kits|C:\Program Files\Windows Kits\10\Debuggers\x86\triage\pooltag.txt`,
		`Windows Kits|C:\Program Files\Windows Kits\10\Debuggers\arm64\triage\pooltag.txt`,
		`XDG data|C:\Users\me\.local\share\wdbg\pooltag.txt`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if c := SearchPaths(`E:\mine.txt`, env)[0]; !c.Required {
		t.Error("-pooltag file not required")
	}
}

func TestSearchPathsUnix(t *testing.T) {
	env := fakeEnv("linux", map[string]string{"XDG_DATA_HOME": "/data"}, "/opt/wdbg/wdbg", "/home/me")
	want := []string{
		"next to wdbg|/opt/wdbg/triage/pooltag.txt",
		"XDG data|/data/wdbg/pooltag.txt",
	}
	if got := paths(SearchPaths("", env)); !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	// A relative XDG_DATA_HOME is invalid (XDG Base Directory spec): fall back to ~/.local/share.
	env = fakeEnv("linux", map[string]string{"XDG_DATA_HOME": "rel", "WDBG_POOLTAG": "/a:/b:/a"}, "", "/home/me")
	want = []string{
		"$WDBG_POOLTAG|/a",
		"$WDBG_POOLTAG|/b",
		"XDG data|/home/me/.local/share/wdbg/pooltag.txt",
	}
	if got := paths(SearchPaths("", env)); !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := SearchPaths("", Env{}); len(got) != 0 {
		t.Errorf("empty env gave %v", got)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	user := filepath.Join(dir, "user.txt")
	ms := filepath.Join(dir, "ms.txt")
	os.WriteFile(user, []byte("Proc - mine.sys - my process tag\nbroken line\n"), 0o644)
	os.WriteFile(ms, []byte("Proc - nt!ps - theirs\nLeak - leakydrv.sys - leaking driver\n"), 0o644)
	missing := filepath.Join(dir, "none.txt")

	db, rep := Load(user, missing, ms)
	if e, _ := db.Describe("Proc"); e.Binary != "mine.sys" || e.Source != user+":1" {
		t.Errorf("Proc = %+v, want the user file's", e)
	}
	if e, _ := db.Describe("Leak"); e.Binary != "leakydrv.sys" {
		t.Errorf("Leak = %+v", e)
	}
	if e, _ := db.Describe("Thre"); e.Source != BuiltinSource {
		t.Errorf("Thre = %+v, want the built-in entry", e)
	}
	read := rep.ReadFiles()
	if len(read) != 2 || read[0].Path != user || read[1].Path != ms || read[0].Entries != 1 || read[1].Entries != 2 {
		t.Errorf("read files %+v", read)
	}
	if len(read[0].Errors) != 1 || read[0].Errors[0].Line != 2 {
		t.Errorf("user file errors %v", read[0].Errors)
	}
	if !rep.Files[1].Missing || rep.Files[1].Read {
		t.Errorf("missing file report %+v", rep.Files[1])
	}
	if rep.Builtin != len(Builtin()) {
		t.Errorf("builtin count %d", rep.Builtin)
	}

	// -pooltag naming a missing file is an error; other candidates are not.
	_, _, err := LoadCandidates([]Candidate{{Path: missing, Origin: "XDG data"}})
	if err != nil {
		t.Errorf("optional missing file gave %v", err)
	}
	db, _, err = LoadCandidates([]Candidate{{Path: missing, Origin: "-pooltag", Required: true}})
	if err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("required missing file gave %v", err)
	}
	if _, ok := db.Describe("Proc"); !ok {
		t.Error("database unusable after a required-file error")
	}
	_, rep, err = LoadCandidates([]Candidate{{Path: dir, Origin: "-pooltag", Required: true}})
	if err == nil || rep.Files[0].Err == "" || rep.Files[0].Read {
		t.Errorf("directory as pooltag file: %v %+v", err, rep.Files[0])
	}
}
