package dev.upcycle.tools.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.model.testing.Fixtures;
import dev.upcycle.tools.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A file flag given a missing path, a folder or a file that cannot be read fails before any work
 * with {@code error: --FLAG: PATH not found | is a directory | cannot be read (...)}, the same for
 * every command ({@link InputFiles}).
 */
class FileArgumentsTest {

  @TempDir Path tmp;

  private record Failure(int code, String out, String err) {}

  private static Failure run(List<String> args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    java.io.ByteArrayOutputStream progress = new java.io.ByteArrayOutputStream(); // System.err: progress lines
    java.io.PrintStream saved = System.err;
    System.setErr(new java.io.PrintStream(progress, true, java.nio.charset.StandardCharsets.UTF_8));
    int code;
    try {
      code = Main.execute(args.toArray(String[]::new), new PrintWriter(out, true), new PrintWriter(err, true),
          Map.of());
    } finally {
      System.setErr(saved);
    }
    return new Failure(code, out.toString(), err + progress.toString(java.nio.charset.StandardCharsets.UTF_8));
  }

  /** Each command line with {@code @} where the bad path goes, and the flag it is given to. */
  private List<String[]> commands() throws Exception {
    String spm = Fixtures.fixture("spm_seqio_test/sentencepiece.model").toString();
    Path text = Files.writeString(tmp.resolve("text.txt"), "one line\n");
    String out = tmp.resolve("out").toString();
    String model = Fixtures.fixture("tfserving_saved_model_half_plus_two_cpu").toString();
    String ckpt = Fixtures.fixture("t5x_tiny_t5/checkpoint_1").toString();
    Path idx = Files.write(tmp.resolve("images.idx"), new byte[] {0, 0, 8, 3, 0, 0, 0, 0});
    return List.of(
        new String[] {"--map", "convert", "--from", ckpt, "--to", out, "--experts", "2", "--map", "@"},
        new String[] {"--map", "inspect", ckpt, "--map", "@"},
        new String[] {"--spm", "data", "tokenize", "--spm", "@", "--in", text.toString(), "--out", out},
        new String[] {"--in", "data", "tokenize", "--spm", spm, "--in", text.toString(), "@", "--out", out},
        new String[] {"--idx", "data", "images", "--idx", "@", "--labels", idx.toString(), "--out", out},
        new String[] {"--labels", "data", "images", "--idx", idx.toString(), "--labels", "@", "--out", out},
        new String[] {"--config", "train", "--config", "@", "--synthetic", "--steps", "1", "--output", out},
        new String[] {"--config", "eval", "--config", "@", "--checkpoint", ckpt, "--data", text.toString()},
        new String[] {"--config", "export", "--config", "@", "--checkpoint", ckpt, "--to", out},
        new String[] {"--request", "predict", "--model", model, "--request", "@"});
  }

  private void check(Path bad, String expected) throws Exception {
    for (String[] c : commands()) {
      List<String> args = new ArrayList<>();
      for (int i = 1; i < c.length; i++) {
        args.add(c[i].equals("@") ? bad.toString() : c[i]);
      }
      Failure f = run(args);
      String line = "error: " + c[0] + ": " + bad + " " + expected;
      assertEquals(1, f.code(), args + ": " + f.err());
      assertTrue(f.err().startsWith(line), args + "\nexpected: " + line + "\ngot: " + f.err());
      assertFalse(f.err().contains("stopped at") || f.err().contains("tokenize:"), "no progress line: " + f.err());
      assertFalse(Files.exists(tmp.resolve("out")), args + " wrote its output");
    }
  }

  @Test
  void aMissingFileIsNotFound() throws Exception {
    check(tmp.resolve("missing.file"), "not found");
  }

  @Test
  void aFolderIsADirectory() throws Exception {
    check(Files.createDirectory(tmp.resolve("folder")), "is a directory, expected a file");
  }

  @Test
  void aFileThatCannotBeOpenedCannotBeRead() throws Exception {
    // a symlink loop cannot be opened even by root
    Path a = tmp.resolve("loop-a");
    Files.createSymbolicLink(a, tmp.resolve("loop-b"));
    Files.createSymbolicLink(tmp.resolve("loop-b"), a);
    check(a, "cannot be read (");
    if (!"root".equals(System.getProperty("user.name"))) {
      Path locked = Files.writeString(tmp.resolve("locked.txt"), "x");
      Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("---------"));
      check(locked, "cannot be read (permission denied)");
    }
  }
}
