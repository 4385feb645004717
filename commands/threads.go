package commands

// threadCommands: entries are added by this family's file.
var threadCommands = []*Command{}
