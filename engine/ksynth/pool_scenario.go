package ksynth

// LeakScenario is the classic case of issue 5: a server whose paged pool ran out because one
// driver leaks tag Leak (56242 paged allocations holding 115633552 bytes), with paged pool
// usage at its maximum; a few dozen well-known tags around it, blocks of Leak and others in pool
// pages (free and quota-charged ones among them), big-page allocations (two of them free), and
// pool pages missing from the dump. Sizes follow the machine's pool granularity.
func LeakScenario(m Machine) *PoolSpec {
	is64 := m != X86PAEWin7_7601 && m != X86Win7_7601
	ps := &PoolSpec{}
	// Tracker rows: tag, nonpaged allocs/frees/bytes, paged allocs/frees/bytes.
	rows := []struct {
		tag                       string
		npA, npF, npB, pA, pF, pB uint64
	}{
		{"Leak", 0, 0, 0, 56242, 0, 115633552},
		{"Proc", 1712, 1598, 155648, 0, 0, 0},
		{"Thre", 23810, 22901, 1163520, 0, 0, 0},
		{"File", 918230, 909844, 3741536, 0, 0, 0},
		{"MmCi", 4120, 1934, 1301120, 0, 0, 0},
		{"IoWI", 5769999, 5769999, 0, 0, 0, 0},
		{"Irp ", 2210934, 2210410, 301568, 0, 0, 0},
		{"Mdl ", 410221, 410109, 28672, 0, 0, 0},
		{"Even", 80123, 78001, 203712, 0, 0, 0},
		{"Muta", 2133, 1990, 11440, 0, 0, 0},
		{"Sema", 1830, 1700, 9360, 0, 0, 0},
		{"Toke", 0, 0, 0, 60211, 59680, 1103872},
		{"SeSd", 0, 0, 0, 301233, 298877, 311296},
		{"ObNm", 0, 0, 0, 91022, 90013, 96864},
		{"ObDi", 0, 0, 0, 310, 170, 35840},
		{"CM31", 0, 0, 0, 52110, 40230, 48947200},
		{"CM25", 0, 0, 0, 3312, 1104, 9043968},
		{"CM16", 0, 0, 0, 1223, 1001, 909312},
		{"MmSt", 0, 0, 0, 88120, 80020, 16588800},
		{"MmRe", 0, 0, 0, 1120, 1001, 60928},
		{"Ntfx", 120334, 118002, 559680, 0, 0, 0},
		{"NtFs", 0, 0, 0, 201334, 199870, 222480},
		{"Ntff", 0, 0, 0, 70113, 67552, 2622464},
		{"FMfn", 0, 0, 0, 31022, 28001, 1571840},
		{"FMfc", 0, 0, 0, 2411, 2000, 52608},
		{"Devi", 112, 12, 43680, 0, 0, 0},
		{"Driv", 140, 2, 28080, 0, 0, 0},
		{"Vad ", 61022, 59001, 206928, 0, 0, 0},
		{"VadS", 40010, 39022, 79040, 0, 0, 0},
		{"AfdE", 1101, 1082, 8512, 0, 0, 0},
		{"TcpE", 2200, 2120, 51200, 0, 0, 0},
		{"Key ", 0, 0, 0, 14500, 13200, 166400},
		{"Vi03", 12, 10, 384, 0, 0, 0},
		{"Wmi ", 0, 0, 0, 80, 71, 1152},
	}
	for _, r := range rows {
		ps.Trackers = append(ps.Trackers, PoolTracker{Tag: r.tag, NonPagedAllocs: r.npA, NonPagedFrees: r.npF,
			NonPagedBytes: r.npB, PagedAllocs: r.pA, PagedFrees: r.pF, PagedBytes: r.pB,
			Expansion: r.tag == "Vi03" || r.tag == "Wmi "})
	}
	// Blocks (sizes include the POOL_HEADER: x64 16 bytes, x86 8).
	hdr := uint32(8)
	if is64 {
		hdr = 16
	}
	blk := func(tag string, user uint32, paged, free, quota bool) PoolBlock {
		return PoolBlock{Tag: tag, Size: user + hdr, Paged: paged, Free: free, Quota: quota}
	}
	ps.Blocks = []PoolBlock{
		blk("Proc", 0x570, false, false, true),
		blk("Thre", 0x4b0, false, false, false),
		blk("File", 0x1d0, false, false, false),
		blk("MmCi", 0x240, false, false, false),
		blk("IoWI", 0x50, false, true, false),
		blk("Irp ", 0x110, false, false, false),
		blk("Even", 0x30, false, false, true),
		blk("Proc", 0x570, false, true, false),
		blk("File", 0x1d0, false, false, false),
	}
	for i := range 12 {
		ps.Blocks = append(ps.Blocks, blk("Leak", 0x800, true, false, false))
		if i%4 == 3 {
			ps.Blocks = append(ps.Blocks, blk("CM31", 0x110, true, false, false), blk("Ntff", 0xf0, true, i == 7, false))
		}
	}
	ps.Blocks = append(ps.Blocks, blk("ObNm", 0x60, true, false, true), blk("SeSd", 0xb0, true, false, false),
		blk("Toke", 0x670, true, false, false))
	ps.BigPages = []PoolBigPage{
		{Tag: "Leak", Bytes: 0x5000, Paged: true},
		{Tag: "MmSt", Bytes: 0x3000, Paged: true},
		{Tag: "CM25", Bytes: 0x1000, Paged: true, Free: true},
		{Tag: "Even", Bytes: 0x2000},
		{Tag: "smNp", Bytes: 0x10000},
		{Tag: "TcpE", Bytes: 0x1000, Free: true},
	}
	ps.MissingPages = []PoolMissingPage{{Paged: true}, {Paged: true, NotStored: true}, {NotStored: true}}
	// Paged pool at its maximum: 128 MiB = 32768 pages, all committed.
	ps.VM = PoolVM{
		AvailablePages: 3105, ResidentAvailablePages: 2911,
		TotalCommittedPages: 0x5F000, TotalCommitLimit: 0x60000, PeakCommitment: 0x5F800, TotalCommitLimitMaximum: 0x80000,
		SharedCommit: 5012, DriverCommit: 2101, ProcessCommit: 40233, PagedPoolCommit: 32768, ExtendedCommit: 0,
		SizeOfPagedPoolInBytes: 128 << 20, MaximumNonPagedPoolInBytes: 256 << 20, AllocatedNonPagedPool: 9021,
		ZeroedPages: 903, FreePages: 301, StandbyPages: 1901, ModifiedPages: 1207, ModifiedNoWritePages: 11, BadPages: 0,
		NumberOfPagingFiles: 1, TotalPagesForPagingFile: 0x40000,
	}
	if m == X64Win10_19041 {
		// Session 1's pool (pool_session.go): win32k's tags, one of them in the session's
		// expansion table. Paged session pool only, as on Windows 10.
		for _, r := range []struct {
			tag      string
			pA, pF   uint64
			pB       uint64
			overflow bool
		}{
			{"Gh05", 12040, 9020, 3092480, false},
			{"Gla5", 3310, 2904, 51968, false},
			{"Usqm", 801, 777, 4608, false},
			{"Ustx", 64, 12, 26624, false},
			{"Uscu", 2211, 2190, 3360, true},
		} {
			ps.SessionTrackers = append(ps.SessionTrackers, PoolTracker{Tag: r.tag, PagedAllocs: r.pA,
				PagedFrees: r.pF, PagedBytes: r.pB, Expansion: r.overflow})
		}
	}
	// The leaking tag lives in synthdrv, the driver the scenario blames; printflt owns one of
	// the quieter tags.
	ps.Owners = []PoolOwner{{Module: "synthdrv", Tag: "Leak", Count: 2}, {Module: "printflt", Tag: "Prnt", Count: 1}}
	return ps
}
