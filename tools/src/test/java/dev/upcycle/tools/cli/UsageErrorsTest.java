package dev.upcycle.tools.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.tools.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad flag values and unknown commands are usage errors (exit 2) that say what was expected. */
class UsageErrorsTest {

  @TempDir Path tmp;

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    out.getBuffer().setLength(0);
    err.getBuffer().setLength(0);
    return Main.execute(args, new PrintWriter(out, true), new PrintWriter(err, true), Map.of());
  }

  private int convert(String flag, String value) {
    return run("convert", "--from", tmp.resolve("dense").toString(), "--to", tmp.resolve("moe").toString(),
        "--experts", "2", flag, value);
  }

  @Test
  void everyChoiceFlagOfConvertListsItsChoicesWithExitTwo() {
    String[][] cases = {
      {"--format", "xyz", "tf, t5x"},
      {"--optimizer-state", "keep", "reset, copy"},
      {"--layout", "odd", "every_other"},
      {"--decoder-layout", "odd", "every_other"},
      {"--router-init", "uniform:1", "normal:STD"},
      {"--router-init", "virtual:1", "virtual-groups"},
      {"--granular-scaling", "xyz", "wo-times-g, megatron"},
      {"--scaling-router", "nearest:2", "top_k:K, top_k:K:renormalize, expert_choice:C"},
      {"--decoder-scaling-router", "top_k:two", "top_k:K"},
    };
    for (String[] c : cases) {
      assertEquals(2, convert(c[0], c[1]), c[0] + ": " + err);
      String e = err.toString();
      assertTrue(e.startsWith("error: Invalid value for option '" + c[0] + "'"), e);
      assertTrue(e.contains("'" + c[1] + "'") && e.contains(c[2]), e);
      assertTrue(e.contains("Try 'upcycle convert --help'"), e);
      assertFalse(e.contains("No enum constant") || e.contains("\tat "), e);
    }
  }

  @Test
  void convertOptionsThatDoNotGoTogetherAreUsageErrors() {
    String[][] cases = {
      {"--scaling-router", "top_k:2", "--granular-scaling", "wo-times-g", "apply to --granular-scaling megatron only"},
      {"--granular-scaling", "megatron", "--optimizer-state", "copy", "use optimizer state RESET"},
      {"--granularity", "3", "--granular-scaling", "megatron", "multiple of granularity 3"},
    };
    for (String[] c : cases) {
      assertEquals(2, run("convert", "--from", tmp.resolve("dense").toString(), "--to", tmp.resolve("moe").toString(),
          "--experts", "2", c[0], c[1], c[2], c[3]), String.join(" ", c) + ": " + err);
      String e = err.toString();
      assertTrue(e.startsWith("error: ") && e.contains(c[4]), e);
      assertTrue(e.contains("Try 'upcycle convert --help'"), e);
    }
  }

  @Test
  void choicesAreCaseInsensitive() {
    // accepted: the run goes on to the missing --from folder (exit 1), not a usage error
    assertEquals(1, convert("--format", "T5X"), err.toString());
    assertTrue(err.toString().contains(tmp.resolve("dense").toString()), err.toString());
  }

  @Test
  void helpListsTheChoices() {
    assertEquals(0, run("convert", "--help"));
    assertTrue(out.toString().contains("tf, t5x") && out.toString().contains("reset, copy")
        && out.toString().replaceAll("\\s+", " ").contains("one of wo-times-g, megatron"), out.toString());
  }

  @Test
  void anUnknownCommandWithHelpIsAUsageError() {
    assertEquals(2, run("nosuch", "--help"));
    String e = err.toString();
    assertTrue(e.contains("nosuch") && e.toLowerCase(java.util.Locale.ROOT).contains("unknown"), e);
    assertFalse(out.toString().contains("Usage:"), out.toString());
    assertEquals(2, run("bench", "nosuch", "--help"));
    assertTrue(err.toString().contains("nosuch"), err.toString());
  }
}
