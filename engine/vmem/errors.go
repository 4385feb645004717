package vmem

import (
	"errors"
	"fmt"
)

// EntryState says what a page-table entry means (FORMATS.md §3.1 hardware, §3.2 software).
type EntryState uint8

const (
	StateValid      EntryState = iota // hardware-valid: a table, a page or a large page
	StateTransition                   // not valid, but the page is still in RAM (followed)
	StateZero                         // entry is 0: nothing committed there
	StateDemandZero                   // committed, never touched: no data anywhere
	StatePageFile                     // paged out to a pagefile
	StatePrototype                    // refers to a prototype PTE (shared/section page)
	StateInvalid                      // not valid and not a known software state (or a reserved encoding)
	StateUnreadable                   // the entry itself could not be read from the dump
	StateBadAddress                   // the address cannot be translated in this mode at all
	StateSubsection                   // a prototype PTE that names a file's subsection: not in memory
)

var stateNames = [...]string{
	StateValid:      "valid",
	StateTransition: "transition",
	StateZero:       "zero",
	StateDemandZero: "demand zero",
	StatePageFile:   "pagefile",
	StatePrototype:  "prototype",
	StateInvalid:    "invalid",
	StateUnreadable: "unreadable",
	StateBadAddress: "bad address",
	StateSubsection: "subsection",
}

func (s EntryState) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("EntryState(%d)", uint8(s))
}

// TranslationError says why va has no physical page in the dump: the level whose entry
// stopped the walk, where that entry is and what it holds.
type TranslationError struct {
	VA        uint64
	Level     string // "" when the address itself is out of range for the mode
	EntryAddr uint64 // physical address of the entry (or of the table it should be in)
	Entry     uint64
	State     EntryState
	Reason    string
	Err       error // the physical read error, for StateUnreadable
}

func (e *TranslationError) Error() string {
	if e.Level == "" {
		return fmt.Sprintf("vmem: %#x: %s", e.VA, e.Reason)
	}
	if e.State == StateUnreadable {
		return fmt.Sprintf("vmem: %#x: %s at physical %#x: %s", e.VA, e.Level, e.EntryAddr, e.Reason)
	}
	return fmt.Sprintf("vmem: %#x: %s %#x (at physical %#x): %s", e.VA, e.Level, e.Entry, e.EntryAddr, e.Reason)
}

func (e *TranslationError) Unwrap() error { return e.Err }

// ReadError is a ReadAt that translated but whose physical page is not in the dump.
type ReadError struct {
	VA  uint64 // first virtual address not read
	PA  uint64 // its physical address
	Err error  // from the Physical reader (nil when it only returned short)
}

func (e *ReadError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("vmem: %#x (physical %#x) is not in the dump: %v", e.VA, e.PA, e.Err)
	}
	return fmt.Sprintf("vmem: %#x (physical %#x) is not in the dump", e.VA, e.PA)
}

func (e *ReadError) Unwrap() error { return e.Err }

// FailedVA is the first virtual address a ReadAt or Translate error says it could not read.
func FailedVA(err error) (uint64, bool) {
	var te *TranslationError
	if errors.As(err, &te) {
		return te.VA, true
	}
	var re *ReadError
	if errors.As(err, &re) {
		return re.VA, true
	}
	return 0, false
}
