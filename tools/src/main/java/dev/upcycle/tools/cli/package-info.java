/**
 * Subcommands of the {@code upcycle} program. Each class parses its flags, calls library code and
 * prints results; no logic a library user would want lives here. Register new commands in
 * {@link dev.upcycle.tools.Main#COMMANDS} (or {@link dev.upcycle.tools.Main#BENCHES}). Subcommands
 * declare their own {@code -h/--help} option ({@code usageHelp = true}); {@code --version} and
 * {@code --verbose} come from the top-level command.
 */
package dev.upcycle.tools.cli;
