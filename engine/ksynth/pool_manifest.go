package ksynth

// PoolFacts is everything the pool writer put in the dump (Manifest.Pool). Addresses are
// virtual; tags are the 4-byte strings (TagValue the u32 as stored).
type PoolFacts struct {
	Layout PoolLayoutFacts `json:"layout"`
	// Symbols are the nt variables the pool readers look up (PoolTrackTable, PoolTrackTableSize,
	// PoolTrackTableExpansion, PoolTrackTableExpansionSize, PoolBigPageTable,
	// PoolBigPageTableSize, MiSystemPartition, ExpPoolQuotaCookie, Mm* counters; on x64 19041
	// also ExPoolTagTables, ExpSessionPoolTrackTable, ExpSessionPoolTrackTableSize), by name:
	// the address of the variable. They are in Manifest.Globals too and in the kernel PDB.
	Symbols map[string]uint64 `json:"symbols"`

	TrackTable         uint64        `json:"track_table"` // the array (value of nt!PoolTrackTable)
	TrackTableSize     uint64        `json:"track_table_size"`
	TrackExpansion     uint64        `json:"track_expansion,omitempty"`
	TrackExpansionSize uint64        `json:"track_expansion_size"`
	Trackers           []TrackerFact `json:"trackers"`
	// TagTables is nt!ExPoolTagTables (the array of per-processor table pointers) and
	// ProcessorTables the tables, by processor; both empty on machines without them
	// (pool_pertable.go). A tag's totals are the sum of its Trackers rows over all tables.
	TagTables       uint64   `json:"tag_tables,omitempty"`
	ProcessorTables []uint64 `json:"processor_tables,omitempty"`
	// Session is the session tracker table (pool_session.go), on machines that have one.
	Session *SessionPoolFacts `json:"session,omitempty"`

	BigPageTable     uint64        `json:"big_page_table"`
	BigPageTableSize uint64        `json:"big_page_table_size"`
	BigPages         []BigPageFact `json:"big_pages"`

	// Ranges are the pool VA ranges: on 7601 what KDBG's MmNonPagedPoolStart/End and
	// MmPagedPoolStart/End variables hold ([Start, End), End exclusive as written); on later
	// builds only where the writer put its pages (the kernel has no fixed ranges there).
	Ranges []PoolRange `json:"ranges"`
	// Pages are the pool pages holding small blocks, in address order.
	Pages  []PoolPageFact `json:"pages"`
	Blocks []BlockFact    `json:"blocks"`
	// Missing are pool pages the dump cannot show.
	Missing []MissingPageFact `json:"missing"`

	// QuotaProcess is the EPROCESS quota-charged blocks are billed to; QuotaCookie the value
	// of nt!ExpPoolQuotaCookie on builds that encode ProcessBilled.
	QuotaProcess uint64 `json:"quota_process"`
	QuotaCookie  uint64 `json:"quota_cookie,omitempty"`

	VM VMFacts `json:"vm"`
	// PagedPools are the paged pool descriptors (pool_pagedpools.go), on Windows 7 machines.
	PagedPools *PagedPoolFacts `json:"paged_pools,omitempty"`
	Fill       *PoolFillFacts  `json:"fill,omitempty"`
	// Owners are where the writer put tags into driver images.
	Owners []OwnerFact `json:"owners,omitempty"`
}

// OwnerFact is one copy of a tag in a driver image.
type OwnerFact struct {
	Module string `json:"module"`
	Tag    string `json:"tag"`
	VA     uint64 `json:"va"`
	RVA    uint32 `json:"rva"`
}

// PoolLayoutFacts are the layouts the writer used.
type PoolLayoutFacts struct {
	TrackerEntrySize uint64 `json:"tracker_entry_size"`
	BigPageEntrySize uint64 `json:"big_page_entry_size"`
	HeaderSize       uint64 `json:"header_size"`
	Granularity      uint64 `json:"granularity"`
	// SegmentHeap: blocks are not chained; each POOL_HEADER (PreviousSize 0) follows an opaque
	// ChunkHeaderSize-byte chunk header, at 16-byte aligned places (§6.4).
	SegmentHeap     bool   `json:"segment_heap"`
	ChunkHeaderSize uint64 `json:"chunk_header_size,omitempty"`
}

// TrackerFact is one tracker row and where it is.
type TrackerFact struct {
	Tag       string `json:"tag"`
	TagValue  uint32 `json:"tag_value"`
	Entry     uint64 `json:"entry"` // VA of the entry
	Index     uint64 `json:"index"`
	Bucket    uint64 `json:"bucket"` // the §6.3 hash bucket (main table)
	Expansion bool   `json:"expansion,omitempty"`
	// PerProcessor marks a row of Processor's table (nt!ExPoolTagTables[Processor]).
	PerProcessor   bool   `json:"per_processor,omitempty"`
	Processor      int    `json:"processor,omitempty"`
	NonPagedAllocs uint64 `json:"nonpaged_allocs"`
	NonPagedFrees  uint64 `json:"nonpaged_frees"`
	NonPagedBytes  uint64 `json:"nonpaged_bytes"`
	PagedAllocs    uint64 `json:"paged_allocs"`
	PagedFrees     uint64 `json:"paged_frees"`
	PagedBytes     uint64 `json:"paged_bytes"`
}

// BigPageFact is one used or free big-page table entry.
type BigPageFact struct {
	Index    uint64 `json:"index"`
	Entry    uint64 `json:"entry"`
	VA       uint64 `json:"va"` // without the free bit
	Tag      string `json:"tag"`
	TagValue uint32 `json:"tag_value"`
	Bytes    uint64 `json:"bytes"`
	PoolType uint32 `json:"pool_type"` // the POOL_TYPE (0 NonPaged, 1 Paged, 0x200 NonPagedNx)
	RawType  uint32 `json:"raw_type"`  // the u32 at the type field as written
	Paged    bool   `json:"paged"`
	Free     bool   `json:"free"`
}

// PoolRange is a pool VA range.
type PoolRange struct {
	Name  string `json:"name"` // NonPagedPool, PagedPool
	Start uint64 `json:"start"`
	End   uint64 `json:"end"`
}

// PoolPageFact is one page of small blocks.
type PoolPageFact struct {
	VA     uint64 `json:"va"`
	PA     uint64 `json:"pa"`
	Paged  bool   `json:"paged"`
	Blocks int    `json:"blocks"`
}

// BlockFact is one small block: Header is the POOL_HEADER's VA, Size and PreviousSize in bytes.
type BlockFact struct {
	Header       uint64 `json:"header"`
	Size         uint64 `json:"size"`
	PreviousSize uint64 `json:"previous_size"`
	Tag          string `json:"tag"`
	TagValue     uint32 `json:"tag_value"`
	Paged        bool   `json:"paged"`
	Free         bool   `json:"free"`
	// PoolType is the header's PoolType byte: POOL_TYPE + 1, 0 when free (§6.1).
	PoolType uint8 `json:"pool_type"`
	// Filler marks the free blocks the writer added to close a page.
	Filler bool `json:"filler,omitempty"`
	// Process is the EPROCESS a quota-charged block is billed to (0: not charged); Billed is
	// the value stored for it (x64 @8 of the header, encoded on Win10; x86 the block's last
	// 4 bytes).
	Process uint64 `json:"process,omitempty"`
	Billed  uint64 `json:"billed,omitempty"`
}

// MissingPageFact is a pool page the dump cannot show.
type MissingPageFact struct {
	VA     uint64 `json:"va"`
	Paged  bool   `json:"paged"`
	Reason string `json:"reason"` // "pagefile" (PTE not present) or "not stored" (frame absent)
	PTE    uint64 `json:"pte"`
}

// VMFacts are the !vm counters: Values by counter name (the PoolVM field names), and every
// variable the writer set, by symbol (nt!MmAvailablePages, MiSystemPartition.Vp.AvailablePages,
// ...), with the value stored there.
type VMFacts struct {
	Values    map[string]uint64 `json:"values"`
	Variables []VMVariable      `json:"variables"`
	// PhysicalPages is the value of nt!MmNumberOfPhysicalPages (written by the KDBG step).
	PhysicalPages uint64 `json:"physical_pages"`
}

// VMVariable is one counter variable.
type VMVariable struct {
	Name    string `json:"name"`
	Address uint64 `json:"address"`
	Value   uint64 `json:"value"`
	Size    int    `json:"size"`
	// KDBGField is the KDDEBUGGER_DATA64 field that points at it, if any.
	KDBGField string `json:"kdbg_field,omitempty"`
}

// PoolFillFacts describe the generated pages: page i of [Start, Start+Pages×4096) holds
// Templates[i % len(Templates)] (offsets within the page), and is at physical frame
// FirstPFN+i.
type PoolFillFacts struct {
	Start     uint64            `json:"start"`
	Pages     uint64            `json:"pages"`
	FirstPFN  uint64            `json:"first_pfn"`
	Paged     bool              `json:"paged"`
	Templates [][]FillBlockFact `json:"templates"`
	// PerTag totals over all generated pages.
	PerTag map[string]FillTagFact `json:"per_tag"`
}

// FillBlockFact is one block of a template page.
type FillBlockFact struct {
	Offset       uint64 `json:"offset"` // of the POOL_HEADER within the page
	Size         uint64 `json:"size"`
	PreviousSize uint64 `json:"previous_size"`
	Tag          string `json:"tag"`
	Free         bool   `json:"free"`
}

// FillTagFact are a tag's totals in the generated pages.
type FillTagFact struct {
	Blocks uint64 `json:"blocks"`
	Bytes  uint64 `json:"bytes"`
}
