package commands

// families lists every command family's entries; each family file declares its own slice.
func families() [][]*Command {
	return [][]*Command{
		sessionCommands,  // session_cmds.go: q, .echo
		targetCommands,   // target.go: vertarget, .time, ||, |, .help
		effmachCommands,  // effmach.go: .effmach
		threadCommands,   // threads.go: ~, ~Ns, ~~[tid]s
		registerCommands, // registers.go: r, .ecxr, .cxr, .exr, .lastevent
		moduleCommands,
		analyzeCommands,       // analyze.go: !analyze
		bugcheckCommands,      // bugcheck.go: .bugcheck, .trap
		stackCommands,         // stack.go: k family, .frame
		symbolCommands,        // symbol_cmds.go: .sympath, .symfix, .reload, .exepath, ln, x     // modules.go: lm
		typeCommands,          // dt.go: dt
		memoryCommands,        // memory.go: d, db, dw, dd, dq, dc, da, du, dp, dps, dqs, dds
		unassembleCommands,    // unassemble.go: u, ub, uu
		evalCommands,          // eval.go: ?
		pebCommands,           // peb.go: !peb, !teb
		pteCommands,           // kernel_pte.go: !pte, !vtop
		processCommands,       // kernel_process.go, kernel_thread.go: !process, !thread
		kernelContextCommands, // kernel_context.go: .thread, .process, !pcr, !prcb, !irql
		poolCommands,          // pool_cmds.go: !vm, !poolused, !poolfind, !pool
	}
}
