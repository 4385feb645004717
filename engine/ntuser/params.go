package ntuser

import (
	"encoding/binary"
	"fmt"
	"unicode/utf16"

	"wdbg/engine"
)

// ProcessParameters is RTL_USER_PROCESS_PARAMETERS: the strings a process was started with and
// its environment block.
type ProcessParameters struct {
	Address uint64
	Flags   Value

	CurrentDirectory UnicodeString // CurrentDirectory.DosPath
	DllPath          UnicodeString
	ImagePathName    UnicodeString
	CommandLine      UnicodeString
	WindowTitle      UnicodeString
	DesktopInfo      UnicodeString
	ShellInfo        UnicodeString
	RuntimeData      UnicodeString

	Environment     Value // address of the environment block
	EnvironmentSize Value // its size in bytes (Vista and later)
	// Variables are the environment block's NAME=value strings, in block order.
	Variables []string
	// EnvironmentError says why Variables stops before the block's terminating empty string
	// (missing memory, size limit); nil when the whole block was read.
	EnvironmentError error
}

// paramsNormalized is RTL_USER_PROC_PARAMS_NORMALIZED, bit 0 of Flags: once set, the
// UNICODE_STRING buffers are addresses; before, they are offsets from the parameter block (public
// phnt/ReactOS headers). Processes past their start-up always have it set.
const paramsNormalized = 1

// ReadProcessParameters reads the RTL_USER_PROCESS_PARAMETERS at addr and decodes the environment
// block it points to. build selects fields that appeared in later Windows versions (0: newest).
func ReadProcessParameters(mem engine.Memory, addr uint64, ptrSize int, build uint32) (*ProcessParameters, error) {
	if err := checkPointerSize(ptrSize); err != nil {
		return nil, err
	}
	r := reader{mem, ptrSize}
	o := layoutFor(ptrSize, build).params
	p := &ProcessParameters{
		Address:         addr,
		Flags:           r.u32(addr, o.flags),
		Environment:     r.ptr(addr, o.environment),
		EnvironmentSize: r.ptr(addr, o.environmentSize),
	}
	var bias uint64
	if p.Flags.Valid && p.Flags.V&paramsNormalized == 0 {
		bias = addr
	}
	str := func(off int) UnicodeString { return readUnicodeString(r, addr+uint64(off), bias) }
	p.CurrentDirectory = str(o.currentDirectory)
	p.DllPath = str(o.dllPath)
	p.ImagePathName = str(o.imagePathName)
	p.CommandLine = str(o.commandLine)
	p.WindowTitle = str(o.windowTitle)
	p.DesktopInfo = str(o.desktopInfo)
	p.ShellInfo = str(o.shellInfo)
	p.RuntimeData = str(o.runtimeData)

	if !p.Flags.Valid && !p.Environment.Valid && !p.CommandLine.Readable && !p.ImagePathName.Readable &&
		!p.CurrentDirectory.Readable && !p.WindowTitle.Readable {
		return nil, &NotInDumpError{Struct: "RTL_USER_PROCESS_PARAMETERS", Addr: addr}
	}
	if p.Environment.Valid && p.Environment.V != 0 {
		limit := uint64(MaxEnvironmentBytes)
		if p.EnvironmentSize.Valid && p.EnvironmentSize.V != 0 && p.EnvironmentSize.V < limit {
			limit = p.EnvironmentSize.V
		}
		p.Variables, p.EnvironmentError = ReadEnvironment(mem, p.Environment.V, limit)
	} else {
		p.EnvironmentError = &EnvironmentError{Addr: p.Environment.V, Reason: "no environment block"}
	}
	return p, nil
}

// MaxEnvironmentBytes caps how much of an environment block is read (the block is UTF-16, so
// this is half a million characters; Windows' own limit per variable is 32767).
const MaxEnvironmentBytes = 1 << 20

// EnvironmentError explains an environment block that could not be read to its end.
type EnvironmentError struct {
	Addr   uint64 // the first byte that was not decoded
	Reason string
}

func (e *EnvironmentError) Error() string {
	return fmt.Sprintf("environment block at %s: %s", hex(e.Addr), e.Reason)
}

// ReadEnvironment decodes a Windows environment block at addr: UTF-16 NAME=value strings, each
// ended by NUL, the block ended by an empty string. At most limit bytes are read. The strings
// read before an error are returned with it.
func ReadEnvironment(mem engine.Memory, addr uint64, limit uint64) ([]string, error) {
	const page = 0x1000
	var vars []string
	var cur []uint16
	end := addr + limit
	if end < addr {
		end = ^uint64(0)
	}
	for a := addr; a < end; {
		// Read up to the next page boundary so that a block whose tail is missing yields the
		// variables in its captured pages.
		n := page - a%page
		if a+n > end {
			n = end - a
		}
		n &^= 1
		if n == 0 {
			break
		}
		b := make([]byte, n)
		got, _ := mem.ReadAt(b, a)
		got &^= 1
		for i := 0; i < got; i += 2 {
			u := binary.LittleEndian.Uint16(b[i:])
			if u != 0 {
				cur = append(cur, u)
				continue
			}
			if len(cur) == 0 { // the empty string ends the block
				return vars, nil
			}
			vars = append(vars, string(utf16.Decode(cur)))
			cur = cur[:0]
		}
		if uint64(got) < n {
			return vars, &EnvironmentError{Addr: a + uint64(got), Reason: "not in the dump"}
		}
		a += n
	}
	return vars, &EnvironmentError{Addr: end, Reason: fmt.Sprintf("no terminating empty string within %d bytes", limit)}
}
