package kernel

// LoadedModule is one entry of PsLoadedModuleList.
type LoadedModule struct {
	Entry         uint64 // the KLDR_DATA_TABLE_ENTRY (or LDR_DATA_TABLE_ENTRY on Windows 7)
	Base          uint64 // DllBase
	Size          uint32 // SizeOfImage
	TimeDateStamp uint32
	CheckSum      uint32
	FullName      string
	BaseName      string
	NameError     error    // the first name that could not be read (the entry is kept)
	Unknown       []string // fields this build's layout lacks
}

// moduleStruct picks the structure PsLoadedModuleList links: KLDR_DATA_TABLE_ENTRY from 10240
// on, whose table column is "-" before it; Windows 7 kernel entries use the
// LDR_DATA_TABLE_ENTRY layout (FORMATS.md §5.1).
func (r *Reader) moduleStruct() string {
	if r.Layout.Has("_KLDR_DATA_TABLE_ENTRY") {
		if _, _, ok := r.Layout.Offset("_KLDR_DATA_TABLE_ENTRY", "DllBase"); ok {
			return "_KLDR_DATA_TABLE_ENTRY"
		}
	}
	return "_LDR_DATA_TABLE_ENTRY"
}

// LoadedModules walks PsLoadedModuleList from its head (the address of nt!PsLoadedModuleList,
// KDBG.PsLoadedModuleList). Entries are linked through InLoadOrderLinks at offset 0. On a
// broken list the modules read so far are returned with a *ListError.
func (r *Reader) LoadedModules(head uint64) ([]LoadedModule, error) {
	name := r.moduleStruct()
	var out []LoadedModule
	err := r.walkList("PsLoadedModuleList", head, func(link uint64) error {
		links, _, _ := r.Layout.Offset(name, "InLoadOrderLinks") // 0 when unknown, as everywhere
		m, err := r.loadedModule(name, link-links)
		if err != nil {
			return err
		}
		out = append(out, m)
		return nil
	})
	return out, err
}

// LoadedModule reads one loader entry.
func (r *Reader) LoadedModule(entry uint64) (LoadedModule, error) {
	return r.loadedModule(r.moduleStruct(), entry)
}

func (r *Reader) loadedModule(structName string, entry uint64) (LoadedModule, error) {
	v, err := r.newView(structName, entry, "loader entry")
	if err != nil {
		return LoadedModule{}, err
	}
	m := LoadedModule{Entry: entry}
	m.Base = v.ptr("DllBase")
	m.Size = v.u32("SizeOfImage")
	m.TimeDateStamp = v.u32("TimeDateStamp")
	if structName == "_KLDR_DATA_TABLE_ENTRY" {
		m.CheckSum = v.u32("CheckSum")
	}
	if a := v.addrOf("FullDllName"); a != 0 {
		m.FullName, err = r.ReadUnicodeString(a)
		m.NameError = err
	}
	if a := v.addrOf("BaseDllName"); a != 0 {
		m.BaseName, err = r.ReadUnicodeString(a)
		if m.NameError == nil {
			m.NameError = err
		}
	}
	m.Unknown = v.missing
	return m, nil
}
