/**
 * The {@code upcycle} command-line program: {@link dev.upcycle.tools.Main} wires the subcommands
 * (listed in one place, {@link dev.upcycle.tools.Main#COMMANDS}) and maps errors to exit codes.
 * The program is thin: commands parse flags, call the libraries and show progress.
 */
package dev.upcycle.tools;
