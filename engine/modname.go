package engine

import (
	"strconv"
	"strings"
)

// WinDbg's module naming, shared by every kind of dump.

// imageName is the file part of a path: what follows the last '\' or '/'.
func imageName(path string) string {
	return path[strings.LastIndexAny(path, `\/`)+1:]
}

// moduleName is WinDbg's name for a module (WINDBG-SPEC §1.2): the image name without its
// extension, with every character that may not appear in an identifier replaced by '_'.
func moduleName(image string) string {
	if i := strings.LastIndexByte(image, '.'); i > 0 {
		image = image[:i]
	}
	b := []byte(image)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}

// assignModuleNames gives every module a unique WinDbg name. The first module (in list order)
// keeps the plain name; later clashes, compared case-insensitively as WinDbg does, get
// "_<base in hex>" (ntdll_77980000, WINDBG-SPEC §1.2). A module without a path is
// Unknown_Module_<base>.
func assignModuleNames(mods []Module) {
	used := map[string]bool{}
	for i := range mods {
		m := &mods[i]
		name := moduleName(m.ImageName)
		if name == "" || m.ImageName == "" {
			name = "Unknown_Module_" + strconv.FormatUint(m.Base, 16)
		}
		if used[strings.ToLower(name)] {
			name += "_" + strconv.FormatUint(m.Base, 16)
		}
		used[strings.ToLower(name)] = true
		m.Name = name
	}
}
