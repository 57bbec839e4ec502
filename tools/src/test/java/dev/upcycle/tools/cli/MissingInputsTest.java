package dev.upcycle.tools.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.model.testing.Fixtures;
import dev.upcycle.tools.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A missing checkpoint, model, source or data path fails before any work (issue 14: {@code eval
 * --checkpoint MISSING} built and compiled the model first): one {@code error:} line naming the
 * path, no progress line before it, nothing written. Every command that takes such a path is
 * listed; the model is built only after the last of these checks, so a command that reaches
 * TensorFlow first would print its step or export lines, which the test refuses.
 */
class MissingInputsTest {

  @TempDir Path tmp;

  private record Run(int code, String out, String err) {}

  private static Run run(List<String> args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    ByteArrayOutputStream progress = new ByteArrayOutputStream(); // System.err: progress and export lines
    PrintStream saved = System.err;
    System.setErr(new PrintStream(progress, true, StandardCharsets.UTF_8));
    int code;
    try {
      code = Main.execute(args.toArray(String[]::new), new PrintWriter(out, true), new PrintWriter(err, true),
          Map.of());
    } finally {
      System.setErr(saved);
    }
    return new Run(code, out.toString(), err + progress.toString(StandardCharsets.UTF_8));
  }

  @Test
  void aMissingPathFailsFirstNamingIt() throws Exception {
    Path missing = tmp.resolve("missing");
    String ckpt = Fixtures.fixture("t5x_tiny_t5/checkpoint_1").toString();
    String model = Fixtures.fixture("tfserving_saved_model_half_plus_two_cpu").toString();
    Path request = Files.writeString(tmp.resolve("request.json"), "{\"instances\": [1.0]}");
    String out = tmp.resolve("out").toString();
    List<String[]> commands = List.of(
        new String[] {"eval", "--checkpoint", "@", "--data", request.toString()},
        new String[] {"export", "--checkpoint", "@", "--to", out},
        new String[] {"train", "--init", "@", "--synthetic", "--steps", "1", "--output", out},
        new String[] {"train", "--data", "@", "--set", "model.preset=t5-tiny", "--steps", "1", "--output", out},
        new String[] {"eval", "--checkpoint", ckpt, "--set", "model.preset=t5-tiny", "--data", "@"},
        new String[] {"convert", "--from", "@", "--to", out, "--experts", "2"},
        new String[] {"inspect", "@"},
        new String[] {"predict", "--model", "@", "--request", request.toString()},
        new String[] {"predict", "--model", model, "--request", "@"});
    for (String[] c : commands) {
      List<String> args = new ArrayList<>();
      for (String a : c) {
        args.add(a.equals("@") ? missing.toString() : a);
      }
      Run r = run(args);
      assertEquals(1, r.code(), args + ": " + r.err());
      List<String> lines = r.err().lines().filter(l -> !l.startsWith("(run with --verbose")).toList();
      assertEquals(1, lines.size(), args + ": one error line and nothing before it:\n" + r.err());
      assertTrue(lines.get(0).startsWith("error: ") && lines.get(0).contains(missing.toString()), args + ": " + r.err());
      assertTrue(lines.get(0).contains("not found") || lines.get(0).contains("does not exist")
          || lines.get(0).contains("no such"), args + ": " + r.err());
      assertFalse(Files.exists(tmp.resolve("out")), args + " wrote its output");
    }
  }

  @Test
  void aCorruptCheckpointFailsBeforeAnyProgressLine() throws Exception {
    Path bad = Files.createDirectories(tmp.resolve("bad"));
    Files.write(bad.resolve("checkpoint"), new byte[0]);
    String out = tmp.resolve("out").toString();
    for (String[] args : List.of(
        new String[] {"convert", "--from", bad.toString(), "--to", out, "--experts", "2"},
        new String[] {"inspect", bad.toString()},
        new String[] {"eval", "--checkpoint", bad.toString(), "--data", bad.resolve("checkpoint").toString()},
        new String[] {"export", "--checkpoint", bad.toString(), "--to", out})) {
      Run r = run(List.of(args));
      assertEquals(1, r.code(), List.of(args) + ": " + r.err());
      List<String> lines = r.err().lines().filter(l -> !l.startsWith("(run with --verbose")).toList();
      assertEquals(List.of("error: " + bad.resolve("checkpoint") + ": is empty (0 bytes): expected a T5X msgpack"
          + " checkpoint or a TF checkpoint state file (model_checkpoint_path: \"...\")"), lines, List.of(args).toString());
      assertFalse(Files.exists(tmp.resolve("out")), List.of(args) + " wrote its output");
    }
  }
}
