package commands

import (
	"fmt"
	"strings"
	"time"

	"wdbg/engine"
	"wdbg/engine/cpu"
)

// The system block that the banner, vertarget and .time share (WINDBG-SPEC §2.2 items 8-13, §2.5).

// osLine is `Windows 10 Version 19045 MP (8 procs) Free x64`; kernel dumps say "Kernel Version".
// Product names for versions before 10.0 follow the version number and product type; 10.0 is
// always "Windows 10", as WinDbg still prints for Windows 11 and the 2016+ servers.
func osLine(t *engine.Target) string {
	sys := t.System
	var b strings.Builder
	b.WriteString(windowsName(sys))
	if t.Kind.IsKernel() {
		b.WriteString(" Kernel")
	}
	fmt.Fprintf(&b, " Version %d", sys.BuildNumber)
	if sys.CSDVersion != "" {
		fmt.Fprintf(&b, " (%s)", sys.CSDVersion)
	}
	if sys.NumberOfProcessors > 1 {
		fmt.Fprintf(&b, " MP (%d procs)", sys.NumberOfProcessors)
	} else {
		b.WriteString(" UP")
	}
	b.WriteString(" Free ")
	b.WriteString(archLabel(t.Arch))
	return b.String()
}

func windowsName(sys engine.SystemInfo) string {
	server := sys.ProductType != 0 && sys.ProductType != 1
	type names struct{ client, server string }
	known := map[[2]uint32]names{
		{5, 0}:  {"Windows 2000", "Windows 2000"},
		{5, 1}:  {"Windows XP", "Windows XP"},
		{5, 2}:  {"Windows XP", "Windows Server 2003"},
		{6, 0}:  {"Windows Vista", "Windows Server 2008"},
		{6, 1}:  {"Windows 7", "Windows Server 2008 R2"},
		{6, 2}:  {"Windows 8", "Windows Server 2012"},
		{6, 3}:  {"Windows 8.1", "Windows Server 2012 R2"},
		{10, 0}: {"Windows 10", "Windows 10"},
	}
	if n, ok := known[[2]uint32{sys.MajorVersion, sys.MinorVersion}]; ok {
		if server {
			return n.server
		}
		return n.client
	}
	return fmt.Sprintf("Windows %d.%d", sys.MajorVersion, sys.MinorVersion)
}

func archLabel(a cpu.Arch) string {
	switch a {
	case cpu.ArchX86:
		return "x86 compatible"
	case cpu.ArchAMD64:
		return "x64"
	case cpu.ArchARM64:
		return "ARM 64-bit (AArch64)"
	case cpu.ArchARM:
		return "ARM (Thumb-2)"
	}
	return "unknown processor"
}

// productLine is `Product: WinNt, suite: SingleUserTS`: the product type and the VER_SUITE_* bits.
func productLine(sys engine.SystemInfo) string {
	product := map[uint8]string{1: "WinNt", 2: "LanManNt", 3: "ServerNt"}[sys.ProductType]
	if product == "" {
		product = fmt.Sprintf("<unknown %d>", sys.ProductType)
	}
	suites := []string{
		"SmallBusiness", "Enterprise", "BackOffice", "CommunicationServer", "TerminalServer",
		"SmallBusinessRestricted", "EmbeddedNT", "DataCenter", "SingleUserTS", "Personal", "Blade",
		"EmbeddedRestricted", "SecurityAppliance", "StorageServer", "ComputeServer", "WHServer",
	}
	var set []string
	for bit, name := range suites {
		if sys.SuiteMask&(1<<bit) != 0 {
			set = append(set, name)
		}
	}
	return fmt.Sprintf("Product: %s, suite: %s", product, strings.Join(set, " "))
}

// sessionTime is `Thu Aug  7 09:22:08.961 2025 (UTC + 8:00)`. The time is shown in the dump
// writer's time zone when the dump records it (MiscInfo), else in UTC, so that a transcript does not
// depend on where wdbg runs. Daylight saving rules are not applied (the standard bias is used).
func sessionTime(t *engine.Target) string {
	if t.DumpTime.IsZero() {
		return "not available"
	}
	offset := 0
	if tz := t.TimeZone; tz != nil {
		offset = -int(tz.Bias + tz.StandardBias)
	}
	local := t.DumpTime.UTC().Add(time.Duration(offset) * time.Minute)
	sign := "+"
	if offset < 0 {
		sign, offset = "-", -offset
	}
	return fmt.Sprintf("%s (UTC %s %d:%02d)", local.Format("Mon Jan _2 15:04:05.000 2006"), sign, offset/60, offset%60)
}

// formatUptime is `5 days 18:17:47.912`.
func formatUptime(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	ms := d.Milliseconds()
	days := ms / (24 * 3600 * 1000)
	ms -= days * 24 * 3600 * 1000
	h := ms / 3600000
	ms -= h * 3600000
	m := ms / 60000
	ms -= m * 60000
	return fmt.Sprintf("%d days %d:%02d:%02d.%03d", days, h, m, ms/1000, ms%1000)
}

// systemBlock is the part of the banner that vertarget repeats.
type systemBlock struct {
	OS            string `json:"os"`
	Product       string `json:"product"`
	BuildLab      string `json:"build_lab,omitempty"`
	SessionTime   string `json:"debug_session_time"`
	DumpTime      string `json:"dump_time_utc,omitempty"`
	SystemUptime  string `json:"system_uptime"`
	ProcessUptime string `json:"process_uptime,omitempty"`
	KernelTime    string `json:"kernel_time,omitempty"`
	UserTime      string `json:"user_time,omitempty"`
	kernel        bool
}

func newSystemBlock(t *engine.Target) systemBlock {
	b := systemBlock{
		OS:           osLine(t),
		Product:      productLine(t.System),
		BuildLab:     t.System.BuildString,
		SessionTime:  sessionTime(t),
		SystemUptime: "not available",
		kernel:       t.Kind.IsKernel(),
	}
	if k := t.Kernel; k != nil && k.HasSystemUptime {
		b.SystemUptime = formatUptime(k.SystemUptime)
	}
	if !t.DumpTime.IsZero() {
		b.DumpTime = t.DumpTime.UTC().Format(time.RFC3339)
	}
	if p := t.Process; !b.kernel && p.HasTimes {
		if !p.CreateTime.IsZero() && !t.DumpTime.IsZero() {
			b.ProcessUptime = formatUptime(t.DumpTime.Sub(p.CreateTime))
		}
		b.KernelTime = formatUptime(p.KernelTime)
		b.UserTime = formatUptime(p.UserTime)
	}
	return b
}

// writeIdentity writes the OS, product and build lines.
func (b systemBlock) writeIdentity(w *strings.Builder) {
	fmt.Fprintln(w, b.OS)
	fmt.Fprintln(w, b.Product)
	if b.BuildLab != "" {
		fmt.Fprintf(w, "Edition build lab: %s\n", b.BuildLab)
	}
}

// writeTimes writes the session time and uptimes; withCPU adds .time's Kernel/User time lines.
func (b systemBlock) writeTimes(w *strings.Builder, withCPU bool) {
	fmt.Fprintf(w, "Debug session time: %s\n", b.SessionTime)
	fmt.Fprintf(w, "System Uptime: %s\n", b.SystemUptime)
	if b.kernel {
		return
	}
	if b.ProcessUptime != "" {
		fmt.Fprintf(w, "Process Uptime: %s\n", b.ProcessUptime)
	} else {
		fmt.Fprintln(w, "Process Uptime: not available")
	}
	if withCPU && b.KernelTime != "" {
		fmt.Fprintf(w, "  Kernel time: %s\n", b.KernelTime)
		fmt.Fprintf(w, "  User time: %s\n", b.UserTime)
	}
}
