package commands

// families lists every command family's entries; each family file declares its own slice.
func families() [][]*Command {
	return [][]*Command{
		sessionCommands,
	}
}
