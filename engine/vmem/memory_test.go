package vmem_test

import (
	"wdbg/engine"
	"wdbg/engine/vmem"
)

// A Translator is the virtual memory of a kernel target.
var _ engine.Memory = (*vmem.Translator)(nil)
