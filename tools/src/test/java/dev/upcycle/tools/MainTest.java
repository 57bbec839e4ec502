package dev.upcycle.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.upcycle.tools.bench.BenchReport;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.io.StringWriter;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.TensorFlow;
import picocli.CommandLine;
import picocli.CommandLine.Command;

class MainTest {

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int run(Map<String, String> env, String... args) {
    return Main.execute(args, new PrintWriter(out, true), new PrintWriter(err, true), env);
  }

  private int run(String... args) {
    return run(Map.of(), args);
  }

  @Command(name = "boom", description = "fails")
  static final class Boom implements Runnable {
    @Override
    public void run() {
      throw new IllegalStateException("tensor encoder/x: expected [4, 8], got [4, 9]");
    }
  }

  private int runWithBoom(Map<String, String> env, String... args) {
    CommandLine cli = Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true), env);
    cli.addSubcommand(new Boom());
    return cli.execute(args);
  }

  @Test
  void helpExitsZeroAndListsCommands() {
    assertEquals(0, run("--help"));
    assertTrue(out.toString().startsWith("Usage: upcycle"), out.toString());
    assertTrue(out.toString().contains("bench"), out.toString());
    assertEquals("", err.toString());
  }

  @Test
  void benchHelpListsCeiling() {
    assertEquals(0, run("bench", "--help"));
    assertTrue(out.toString().contains("ceiling"), out.toString());
  }

  @Test
  void unknownFlagIsAShortUsageErrorWithExitTwo() {
    assertEquals(2, run("--bogus"));
    String e = err.toString();
    assertTrue(e.startsWith("error: Unknown option: '--bogus'"), e);
    assertTrue(e.contains("Try 'upcycle --help'"), e);
    assertFalse(e.contains("\tat "), "no stack trace: " + e);
    assertTrue(e.split("\n").length <= 3, "short: " + e);
    assertEquals("", out.toString());
  }

  @Test
  void missingSubcommandAndBadValueExitTwo() {
    assertEquals(2, run());
    assertTrue(err.toString().contains("Missing required subcommand"), err.toString());
    assertEquals(2, run("bench", "ceiling", "--size", "zero"));
    assertTrue(err.toString().contains("--size"), err.toString());
    assertEquals(2, run("bench", "ceiling", "--size", "0"));
    assertTrue(err.toString().contains("--size must be >= 1, got 0"), err.toString());
  }

  @Test
  void versionShowsProjectAndTensorFlowVersions() {
    assertEquals(0, run("--version"));
    String project = Versions.project();
    assertFalse(project.contains("${"), "version resource is filtered: " + project);
    assertTrue(out.toString().contains("upcycle " + project), out.toString());
    assertTrue(out.toString().contains("TensorFlow " + TensorFlow.version()), out.toString());
  }

  @Test
  void commandErrorsPrintOneLineAndExitOne() {
    assertEquals(1, runWithBoom(Map.of(), "boom"));
    String e = err.toString();
    assertTrue(e.startsWith("error: tensor encoder/x: expected [4, 8], got [4, 9]\n"), e);
    assertFalse(e.contains("\tat "), "no stack trace without --verbose: " + e);
  }

  @Test
  void verboseOrDebugEnvAddsTheStackTrace() {
    assertEquals(1, runWithBoom(Map.of(), "--verbose", "boom"));
    assertTrue(err.toString().contains("java.lang.IllegalStateException"), err.toString());
    assertTrue(err.toString().contains("\tat "), err.toString());

    err.getBuffer().setLength(0);
    assertEquals(1, runWithBoom(Map.of(), "boom", "--verbose"));
    assertTrue(err.toString().contains("\tat "), "--verbose after the subcommand: " + err);

    err.getBuffer().setLength(0);
    assertEquals(1, runWithBoom(Map.of(Main.DEBUG_ENV, "1"), "boom"));
    assertTrue(err.toString().contains("\tat "), "UPCYCLE_DEBUG=1: " + err);
  }

  @Test
  void benchCeilingPrintsOneJsonReport() throws Exception {
    assertEquals(0, run("bench", "ceiling", "--size", "64", "--warmup", "1", "--repeats", "3"));
    BenchReport report = BenchReport.fromJson(out.toString());
    assertEquals("ceiling", report.bench());
    assertEquals(2, report.results().size());
    assertEquals("matmul/f32_64/noxla", report.results().get(0).name());
    assertEquals("matmul/f32_64/xla", report.results().get(1).name());
    double best = Math.max(report.results().get(0).gflops(), report.results().get(1).gflops());
    assertEquals(best, report.ceilingGflops(), 0);
    double ratio = report.results().get(1).msPerStep().median() / report.results().get(0).msPerStep().median();
    assertEquals(ratio, report.ratios().get("xla_over_noxla"), 1e-12);
    JsonNode root = new ObjectMapper().readTree(out.toString());
    assertEquals("cpu", root.get("machine").get("device").asText());
    assertTrue(out.toString().trim().endsWith("}"), "stdout holds only the JSON");
  }

  @Test
  void benchCeilingWithoutXlaMeasuresOneVariant() {
    assertEquals(0, run("bench", "ceiling", "--size", "32", "--warmup", "0", "--repeats", "2", "--no-xla"));
    BenchReport report = BenchReport.fromJson(out.toString());
    assertEquals(1, report.results().size());
    assertEquals("matmul/f32_32/noxla", report.results().get(0).name());
    assertTrue(report.ratios().isEmpty());
  }

  /**
   * Every command's help renders without picocli format warnings: a description with a bare
   * {@code %} (as in "50,100 %, one seed") is a format string to picocli, which then prints a
   * warning on stderr and shows the raw text with literal {@code %n}.
   */
  @Test
  void everyCommandsHelpRendersWithoutFormatWarnings() {
    PrintStream stderr = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    StringBuilder usages = new StringBuilder();
    try {
      System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
      appendUsages(Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true), Map.of()), usages);
    } finally {
      System.setErr(stderr);
    }
    String warnings = captured.toString(StandardCharsets.UTF_8);
    assertFalse(warnings.contains("picocli WARN"), warnings);
    assertFalse(usages.toString().contains("%n"), "a description shows a raw %n");
    assertTrue(usages.toString().contains("Usage: upcycle experiment"), "subcommands' help rendered too");
  }

  private static void appendUsages(CommandLine cli, StringBuilder usages) {
    usages.append(cli.getUsageMessage(CommandLine.Help.Ansi.OFF));
    for (CommandLine sub : cli.getSubcommands().values()) {
      appendUsages(sub, usages);
    }
  }
}
