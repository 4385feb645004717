package commands

// memoryCommands: entries are added by this family's file.
var memoryCommands = []*Command{}
