package ntuser

// A synthetic process image built from FORMATS.md §5 directly (offsets typed here from the
// tables, not taken from layout.go), so that a wrong offset in layout.go shows up as a mismatch.

type testOffsets struct {
	// _TEB
	tebStackBase, tebStackLimit, tebSelf, tebClientID, tebTLS, tebPEB, tebLastError, tebLastStatus, tebTlsSlots int
	// _PEB
	pebBeingDebugged, pebImageBase, pebLdr, pebParams, pebHeap, pebNtGlobalFlag int
	// _PEB_LDR_DATA
	ldrInitialized, ldrLoadOrder, ldrMemoryOrder, ldrInitOrder int
	// _LDR_DATA_TABLE_ENTRY
	entDllBase, entSize, entFull, entBase, entTime int
	// _RTL_USER_PROCESS_PARAMETERS
	ppFlags, ppCurDir, ppDllPath, ppImage, ppCmd, ppEnv, ppTitle, ppDesktop, ppEnvSize int
}

var offsets64 = testOffsets{
	tebStackBase: 0x8, tebStackLimit: 0x10, tebSelf: 0x30, tebClientID: 0x40, tebTLS: 0x58, tebPEB: 0x60,
	tebLastError: 0x68, tebLastStatus: 0x1250, tebTlsSlots: 0x1480,
	pebBeingDebugged: 0x2, pebImageBase: 0x10, pebLdr: 0x18, pebParams: 0x20, pebHeap: 0x30, pebNtGlobalFlag: 0xbc,
	ldrInitialized: 0x4, ldrLoadOrder: 0x10, ldrMemoryOrder: 0x20, ldrInitOrder: 0x30,
	entDllBase: 0x30, entSize: 0x40, entFull: 0x48, entBase: 0x58, entTime: 0x80,
	ppFlags: 0x8, ppCurDir: 0x38, ppDllPath: 0x50, ppImage: 0x60, ppCmd: 0x70, ppEnv: 0x80, ppTitle: 0xb0,
	ppDesktop: 0xc0, ppEnvSize: 0x3f0,
}

var offsets32 = testOffsets{
	tebStackBase: 0x4, tebStackLimit: 0x8, tebSelf: 0x18, tebClientID: 0x20, tebTLS: 0x2c, tebPEB: 0x30,
	tebLastError: 0x34, tebLastStatus: 0xbf4, tebTlsSlots: 0xe10,
	pebBeingDebugged: 0x2, pebImageBase: 0x8, pebLdr: 0xc, pebParams: 0x10, pebHeap: 0x18, pebNtGlobalFlag: 0x68,
	ldrInitialized: 0x4, ldrLoadOrder: 0xc, ldrMemoryOrder: 0x14, ldrInitOrder: 0x1c,
	entDllBase: 0x18, entSize: 0x20, entFull: 0x24, entBase: 0x2c, entTime: 0x44,
	ppFlags: 0x8, ppCurDir: 0x24, ppDllPath: 0x30, ppImage: 0x38, ppCmd: 0x40, ppEnv: 0x48, ppTitle: 0x70,
	ppDesktop: 0x78, ppEnvSize: 0x290,
}

type testModule struct {
	base uint64
	size uint32
	time uint32
	path string
}

var testModules = []testModule{
	{0x400000, 0x9000, 0x5bb4b412, `C:\app\app.exe`},
	{0x77cf0000, 0x190000, 0xbf2f8c99, `C:\WINDOWS\SYSTEM32\ntdll.dll`},
	{0x75430000, 0xe0000, 0xae0a74bf, `C:\WINDOWS\System32\KERNEL32.DLL`},
}

var testEnv = []string{"=C:=C:\\app", "ALLUSERSPROFILE=C:\\ProgramData", "PATH=C:\\WINDOWS;C:\\bin", "Ünïcode=✓"}

// process is a synthetic process image with one thread.
type process struct {
	img                                  *pageImage
	off                                  testOffsets
	teb, peb, ldr, params, envAddr       uint64
	entries                              []uint64
	envSize                              uint64
	stackBase, stackLimit, pid, tid, tls uint64
}

// addressPlan says where buildProcess puts each structure.
type addressPlan struct {
	teb, peb, ldr, entries, params, strs, env uint64
}

// scattered puts the structures on different pages, as in a real process.
var scattered = addressPlan{teb: 0x7ffd0000, peb: 0x7ffdf000, ldr: 0x77e07ba0, entries: 0x523000,
	params: 0x5226c0, strs: 0x524000, env: 0x520b70}

// buildProcess lays out a TEB, PEB, loader data with testModules and process parameters with
// testEnv, for the given pointer size. Addresses sit below 4 GiB so that both widths can hold them.
func buildProcess(ptrSize int) *process { return buildProcessAt(ptrSize, scattered) }

func buildProcessAt(ptrSize int, plan addressPlan) *process {
	p := &process{img: newImage(ptrSize), off: offsets64}
	if ptrSize == 4 {
		p.off = offsets32
	}
	m, o := p.img, p.off
	p.teb, p.peb, p.ldr, p.params, p.envAddr = plan.teb, plan.peb, plan.ldr, plan.params, plan.env
	p.stackBase, p.stackLimit, p.pid, p.tid, p.tls = 0x130000, 0x12c000, 0x7b00, 0xbff8, 0x7ffd002c

	m.ptrAt(p.teb+0, 0x12fc18) // ExceptionList
	m.ptrAt(p.teb+uint64(o.tebStackBase), p.stackBase)
	m.ptrAt(p.teb+uint64(o.tebStackLimit), p.stackLimit)
	m.ptrAt(p.teb+uint64(o.tebSelf), p.teb)
	m.ptrAt(p.teb+uint64(o.tebClientID), p.pid)
	m.ptrAt(p.teb+uint64(o.tebClientID+ptrSize), p.tid)
	m.ptrAt(p.teb+uint64(o.tebTLS), p.tls)
	m.ptrAt(p.teb+uint64(o.tebPEB), p.peb)
	m.u32(p.teb+uint64(o.tebLastError), 183)
	m.u32(p.teb+uint64(o.tebLastStatus), 0xc0000034)

	m.u8(p.peb+uint64(o.pebBeingDebugged), 1)
	m.ptrAt(p.peb+uint64(o.pebImageBase), testModules[0].base)
	m.ptrAt(p.peb+uint64(o.pebLdr), p.ldr)
	m.ptrAt(p.peb+uint64(o.pebParams), p.params)
	m.ptrAt(p.peb+uint64(o.pebHeap), 0x520000)
	m.u32(p.peb+uint64(o.pebNtGlobalFlag), 0x70)

	m.u8(p.ldr+uint64(o.ldrInitialized), 1)
	head := p.ldr + uint64(o.ldrLoadOrder)
	entryAddr := plan.entries
	for range testModules {
		p.entries = append(p.entries, entryAddr)
		entryAddr += 0x200
	}
	for i, mod := range testModules {
		e := p.entries[i]
		next, prev := head, head
		if i+1 < len(p.entries) {
			next = p.entries[i+1]
		}
		if i > 0 {
			prev = p.entries[i-1]
		}
		m.ptrAt(e, next)
		m.ptrAt(e+uint64(ptrSize), prev)
		m.ptrAt(e+uint64(o.entDllBase), mod.base)
		m.u32(e+uint64(o.entSize), mod.size)
		m.u32(e+uint64(o.entTime), mod.time)
		m.ustr(e+uint64(o.entFull), e+0x100, mod.path)
		m.ustr(e+uint64(o.entBase), e+0x180, baseName(mod.path))
	}
	m.ptrAt(head, p.entries[0])
	m.ptrAt(head+uint64(ptrSize), p.entries[len(p.entries)-1])
	m.ptrAt(p.ldr+uint64(o.ldrMemoryOrder), p.entries[0]+0x10)
	m.ptrAt(p.ldr+uint64(o.ldrInitOrder), p.entries[1]+0x20)

	m.u32(p.params+uint64(o.ppFlags), 0x2001) // normalised
	m.ustr(p.params+uint64(o.ppCurDir), plan.strs, `C:\app\`)
	m.ustr(p.params+uint64(o.ppDllPath), 0, "") // NULL buffer: not readable
	m.ustr(p.params+uint64(o.ppImage), plan.strs+0x100, `C:\app\app.exe`)
	m.ustr(p.params+uint64(o.ppCmd), plan.strs+0x200, `"C:\app\app.exe" --flag`)
	m.ustr(p.params+uint64(o.ppTitle), plan.strs+0x300, `C:\app\app.exe`)
	m.ustr(p.params+uint64(o.ppDesktop), plan.strs+0x400, `Winsta0\Default`)
	m.ptrAt(p.params+uint64(o.ppEnv), p.envAddr)
	p.envSize = m.env(p.envAddr, testEnv...)
	m.ptrAt(p.params+uint64(o.ppEnvSize), p.envSize)
	return p
}
