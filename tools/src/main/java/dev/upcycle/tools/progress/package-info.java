/**
 * Progress reporting for long-running work (conversion, training, benchmarks).
 *
 * <p>{@link dev.upcycle.tools.progress.Progress} draws a one-line bar on a terminal and writes
 * throttled plain log lines otherwise; it always writes to stderr so that stdout stays free for
 * machine-readable output such as benchmark JSON.
 */
package dev.upcycle.tools.progress;
