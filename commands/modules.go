package commands

import (
	"context"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"

	"wdbg/engine"
	"wdbg/engine/symbols"
)

// moduleCommands: lm (WINDBG-SPEC §3.4).
var moduleCommands = []*Command{
	{
		Name: "lm", Group: "Modules", Glued: true,
		Usage:   "lm [Options] [a Address] [m Pattern | M Pattern]",
		Summary: "list loaded and unloaded modules",
		Help: "Options combine, glued or apart (`lm t n`, `lmvm ntdll`): v verbose block per module; t file " +
			"timestamps; n image names; f full image paths; i image file names; c checksums; o loaded modules only " +
			"(no unloaded list); l only modules whose symbols are loaded; e only modules with symbol problems; " +
			"k kernel modules, u user modules; sm sort by name; 1m names only. `m Pattern` filters by module name and " +
			"`M Pattern` by image path, with * and ? wildcards; `a Address` shows the module containing an address. " +
			"Once a module's symbols were looked for, a letter before its symbol state flags it: M its image has " +
			"another timestamp, size or checksum than the dump lists (used anyway), # a symbol file was refused " +
			"as not matching, T no timestamp in the dump, C no checksum.",
		Run: runLm,
	},
}

type lmOptions struct {
	verbose, timestamps, names, fullPath, imageFile, checksum bool
	loadedOnly, withSymbols, problems, sortByName, namesOnly  bool
	pattern, pathPattern                                      string
	addr                                                      uint64
	hasAddr                                                   bool
}

func parseLm(s *Session, args string) (lmOptions, error) {
	var o lmOptions
	fields := strings.Fields(args)
	syntax := func() error { return &SyntaxError{Input: "lm " + args, Col: 3} }
	for i := 0; i < len(fields); i++ {
		f := fields[i]
		for j := 0; j < len(f); j++ {
			takeArg := func() (string, bool) {
				if j+1 < len(f) { // glued: lmmntdll is not WinDbg syntax, but `lm mntdll` is tolerated
					v := f[j+1:]
					j = len(f)
					return v, true
				}
				if i+1 < len(fields) {
					i++
					return fields[i], true
				}
				return "", false
			}
			switch c := f[j]; c {
			case 'v':
				o.verbose = true
			case 't':
				o.timestamps = true
			case 'n':
				o.names = true
			case 'f':
				o.fullPath = true
			case 'i':
				o.imageFile = true
			case 'c':
				o.checksum = true
			case 'o':
				o.loadedOnly = true
			case 'l':
				o.withSymbols = true
			case 'e':
				o.problems = true
			case 'k', 'u', 'D', 'p':
				// kernel/user split and DML do not change a user dump's listing.
			case 's':
				if j+1 < len(f) && f[j+1] == 'm' {
					o.sortByName = true
					j++
				}
			case '1':
				if j+1 < len(f) && f[j+1] == 'm' {
					o.namesOnly = true
					j++
				}
			case 'm', 'M':
				v, ok := takeArg()
				if !ok {
					return o, syntax()
				}
				if c == 'm' {
					o.pattern = v
				} else {
					o.pathPattern = v
				}
			case 'a':
				v, ok := takeArg()
				if !ok {
					return o, syntax()
				}
				a, err := s.Eval(v)
				if err != nil {
					return o, err
				}
				o.addr, o.hasAddr = a, true
			default:
				return o, syntax()
			}
		}
	}
	return o, nil
}

// wildcardMatch is WinDbg's string wildcard match (* ? [set]), case-insensitive.
func wildcardMatch(pattern, name string) bool {
	ok, err := path.Match(strings.ToLower(pattern), strings.ToLower(name))
	return err == nil && ok
}

func runLm(ctx context.Context, s *Session, args string) (Result, error) {
	o, err := parseLm(s, args)
	if err != nil {
		return nil, err
	}
	r := &moduleList{opts: o, ptr: s.PointerSize()}
	keep := func(name, fullPath string, base, end uint64) bool {
		if o.pattern != "" && !wildcardMatch(o.pattern, name) {
			return false
		}
		if o.pathPattern != "" && !wildcardMatch(o.pathPattern, fullPath) {
			return false
		}
		if o.hasAddr && (o.addr < base || o.addr >= end) {
			return false
		}
		return true
	}
	for i := range s.Target.Modules {
		m := &s.Target.Modules[i]
		if !keep(m.Name, m.Path, m.Base, m.End()) {
			continue
		}
		e := newModuleEntry(m)
		if s.Symbols != nil {
			kind, file := s.Symbols.Status(i)
			e.SymbolStatus, e.SymbolFile = kind.String(), file
			if kind != symbols.Deferred {
				e.SymbolFlag = s.symbolFlag(i, m)
			}
			if o.withSymbols && !kind.Loaded() {
				continue
			}
			if o.problems && kind.Loaded() {
				continue
			}
		}
		r.Modules = append(r.Modules, e)
	}
	if o.sortByName {
		sort.SliceStable(r.Modules, func(i, j int) bool {
			return strings.ToLower(r.Modules[i].Name) < strings.ToLower(r.Modules[j].Name)
		})
	}
	if !o.loadedOnly && !o.withSymbols && !s.Target.Kind.IsKernel() {
		for _, u := range s.Target.Unloaded {
			name := strings.TrimSuffix(u.ImageName, path.Ext(u.ImageName))
			if !keep(name, u.Path, u.Base, u.Base+uint64(u.Size)) {
				continue
			}
			r.Unloaded = append(r.Unloaded, unloadedEntry{Base: hexString(u.Base), End: hexString(u.Base + uint64(u.Size)),
				ImageName: u.ImageName, base: u.Base, end: u.Base + uint64(u.Size)})
		}
	}
	return r, nil
}

func hexString(v uint64) string { return fmt.Sprintf("0x%x", v) }

// symbolFlag is the letter lm prints before a module's symbol state once its symbols were looked
// for (WINDBG-SPEC §3.4; the debugger documentation's "Symbol Status Abbreviations"): M when the
// image the symbols were read against disagrees with the module the dump lists (timestamp, size
// or checksum) and was used anyway, # when a symbol file was refused because it does not match
// the module, T when the dump gives the module no timestamp, C when it gives no checksum. The
// image is the one the resolver found, or the headers mapped in the dump.
func (s *Session) symbolFlag(i int, m *engine.Module) string {
	if h, ok := s.Symbols.ImageHeaders(i); ok {
		if h.TimeDateStamp != m.TimeDateStamp || h.SizeOfImage != m.Size || h.CheckSum != m.Checksum {
			return "M"
		}
	}
	for _, n := range s.Symbols.Notes(i) {
		if strings.Contains(n, " does not match ") {
			return "#"
		}
	}
	switch {
	case m.TimeDateStamp == 0:
		return "T"
	case m.Checksum == 0:
		return "C"
	}
	return ""
}

type moduleEntry struct {
	Base          string                `json:"base"`
	End           string                `json:"end"`
	Name          string                `json:"name"`
	ImageName     string                `json:"image_name"`
	Path          string                `json:"path"`
	TimeDateStamp uint32                `json:"timestamp"`
	Checksum      uint32                `json:"checksum"`
	Size          uint32                `json:"size"`
	SymbolStatus  string                `json:"symbol_status"`
	SymbolFlag    string                `json:"symbol_flag,omitempty"` // M, # or T (symbolFlag)
	SymbolFile    string                `json:"symbol_file,omitempty"`
	Version       *engine.FixedFileInfo `json:"version,omitempty"`
	PDB           string                `json:"pdb,omitempty"`
	m             *engine.Module
}

func newModuleEntry(m *engine.Module) moduleEntry {
	e := moduleEntry{Base: hexString(m.Base), End: hexString(m.End()), Name: m.Name, ImageName: m.ImageName,
		Path: m.Path, TimeDateStamp: m.TimeDateStamp, Checksum: m.Checksum, Size: m.Size,
		SymbolStatus: "deferred", Version: m.Version, m: m}
	if m.CodeView != nil {
		e.PDB = m.CodeView.PDBName
	}
	return e
}

type unloadedEntry struct {
	Base      string `json:"base"`
	End       string `json:"end"`
	ImageName string `json:"image_name"`
	base, end uint64
}

type moduleList struct {
	Modules  []moduleEntry   `json:"modules"`
	Unloaded []unloadedEntry `json:"unloaded,omitempty"`
	opts     lmOptions
	ptr      int
}

// timestampText is `Sun Nov 09 18:59:03 2014 (546029F7)`, in UTC so that transcripts do not depend
// on where wdbg runs (WinDbg shows the debugger machine's local time).
func timestampText(ts uint32) string {
	return fmt.Sprintf("%s (%08X)", time.Unix(int64(ts), 0).UTC().Format("Mon Jan 02 15:04:05 2006"), ts)
}

func (r *moduleList) WriteText(w io.Writer) error {
	var b strings.Builder
	o := r.opts
	if o.namesOnly {
		for _, m := range r.Modules {
			b.WriteString(m.Name + "\n")
		}
		_, err := io.WriteString(w, b.String())
		return err
	}
	if r.ptr == 8 {
		b.WriteString("start             end                 module name\n")
	} else {
		b.WriteString("start    end        module name\n")
	}
	for _, m := range r.Modules {
		fmt.Fprintf(&b, "%s %s   ", FormatAddr(m.m.Base, r.ptr), FormatAddr(m.m.End(), r.ptr))
		switch {
		case o.timestamps:
			// lm t n: module, image name, timestamp (WINDBG-SPEC §3.4).
			second := m.Name
			if o.names {
				second = m.ImageName
			}
			fmt.Fprintf(&b, "%-8s %-12s %s", m.Name, second, timestampText(m.TimeDateStamp))
		case o.fullPath:
			fmt.Fprintf(&b, "%-8s %s", m.Name, m.Path)
		case o.names || o.imageFile:
			fmt.Fprintf(&b, "%-8s %s", m.Name, m.ImageName)
		default:
			// The flag letter between blanks, the status left-justified in 22 columns, a blank,
			// then the symbol file (WINDBG-SPEC §3.4).
			fmt.Fprintf(&b, "%-8s %1s %-22s %s", m.Name, m.SymbolFlag, "("+m.SymbolStatus+")", m.SymbolFile)
		}
		if o.checksum {
			fmt.Fprintf(&b, " %08X", m.Checksum)
		}
		b.WriteString("\n")
		if o.verbose {
			writeModuleDetails(&b, m)
		}
	}
	if len(r.Unloaded) > 0 {
		b.WriteString("\nUnloaded modules:\n")
		for _, u := range r.Unloaded {
			fmt.Fprintf(&b, "%s %s   %s\n", FormatAddr(u.base, r.ptr), FormatAddr(u.end, r.ptr), u.ImageName)
			if o.verbose {
				b.WriteString("\n")
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeModuleDetails is lm v's indented block (WINDBG-SPEC §3.4).
func writeModuleDetails(b *strings.Builder, m moduleEntry) {
	if m.SymbolFile != "" {
		fmt.Fprintf(b, "    Loaded symbol image file: %s\n", m.ImageName)
		fmt.Fprintf(b, "    Symbol file: %s\n", m.SymbolFile)
	}
	fmt.Fprintf(b, "    Image path: %s\n", m.Path)
	fmt.Fprintf(b, "    Image name: %s\n", m.ImageName)
	fmt.Fprintf(b, "    Timestamp:        %s\n", timestampText(m.TimeDateStamp))
	fmt.Fprintf(b, "    CheckSum:         %08X\n", m.Checksum)
	fmt.Fprintf(b, "    ImageSize:        %08X\n", m.Size)
	if v := m.Version; v != nil {
		fmt.Fprintf(b, "    File version:     %d.%d.%d.%d\n", v.FileVersion[0], v.FileVersion[1], v.FileVersion[2], v.FileVersion[3])
		fmt.Fprintf(b, "    Product version:  %d.%d.%d.%d\n", v.ProductVersion[0], v.ProductVersion[1], v.ProductVersion[2], v.ProductVersion[3])
		fmt.Fprintf(b, "    File flags:       %X (Mask %X)\n", v.FileFlags&v.FileFlagsMask, v.FileFlagsMask)
		fmt.Fprintf(b, "    File OS:          %X %s\n", v.FileOS, fileOSName(v.FileOS))
		fmt.Fprintf(b, "    File type:        %X.%X %s\n", v.FileType, v.FileSubtype, fileTypeName(v.FileType))
		fmt.Fprintf(b, "    File date:        %08X.%08X\n", uint32(v.FileDate>>32), uint32(v.FileDate))
	}
	if m.PDB != "" && m.SymbolFile == "" {
		fmt.Fprintf(b, "    PDB name:         %s (not loaded)\n", m.PDB)
	}
}

// fileOSName spells VS_FIXEDFILEINFO.dwFileOS (VOS_* values of the Windows SDK's verrsrc.h).
func fileOSName(os uint32) string {
	high := map[uint32]string{0x1: "DOS", 0x2: "OS/2 16-bit", 0x3: "OS/2 32-bit", 0x4: "NT", 0x5: "WINCE"}[os>>16]
	low := map[uint32]string{0x1: "Win16", 0x2: "PM16", 0x3: "PM32", 0x4: "Win32"}[os&0xffff]
	switch {
	case high != "" && low != "":
		return high + " " + low
	case high != "":
		return high
	case low != "":
		return low
	}
	return "Unknown"
}

// fileTypeName spells VS_FIXEDFILEINFO.dwFileType (VFT_* values).
func fileTypeName(t uint32) string {
	if n, ok := map[uint32]string{1: "App", 2: "Dll", 3: "Driver", 4: "Font", 5: "VXD", 7: "Static library"}[t]; ok {
		return n
	}
	return "Unknown"
}
