package dev.upcycle.ckpt;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.upcycle.model.testing.Fixtures;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A folder whose file {@code checkpoint} neither format takes (issue 14): the error names that file
 * and what is wrong with it, not "no supported checkpoint found".
 */
class CheckpointFileMessagesTest {

  @TempDir Path tmp;

  private Path folderWith(byte[] checkpointFile) throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("ckpt"));
    Files.write(dir.resolve("checkpoint"), checkpointFile);
    return dir;
  }

  /** What {@code inspect} and {@code convert} get for {@code dir}: the message, which must name the file. */
  private static String refusal(Path dir, String... expected) {
    CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
        () -> CheckpointFormats.list(dir, Optional.empty()).close());
    String m = e.getMessage();
    assertTrue(m.startsWith(dir.resolve("checkpoint").toString()), m);
    assertFalse(m.contains("no supported checkpoint found"), m);
    for (String x : expected) {
      assertTrue(m.contains(x), "no '" + x + "' in: " + m);
    }
    return m;
  }

  @Test
  void aCorruptFirstByteIsNamed() throws IOException {
    refusal(folderWith(new byte[] {(byte) 0xc1, 1, 2, 3}), "truncated or corrupt msgpack at byte");
  }

  @Test
  void anEmptyFileIsNamed() throws IOException {
    refusal(folderWith(new byte[0]), "is empty (0 bytes)");
  }

  @Test
  void aRootThatIsAListIsNamed() throws IOException {
    refusal(folderWith(new byte[] {(byte) 0x93, 1, 2, 3}), "top level", "an array [1, 2, 3]", "expected a map");
  }

  @Test
  void aStateFileNamingAMissingPrefixIsNamed() throws IOException {
    Path dir = Fixtures.copyTo("t2t_transformer_test_ckpt", tmp);
    Files.writeString(dir.resolve("checkpoint"), "model_checkpoint_path: \"model.ckpt-5\"\n");
    refusal(dir, "'model.ckpt-5'", dir.resolve("model.ckpt-5.index").toString(), "missing");
  }

  @Test
  void aGarbageStateFileIsNamed() throws IOException {
    refusal(folderWith("hello, this is not a state file\n".getBytes()), "no model_checkpoint_path");
  }

  @Test
  void anUnreadableFileIsNamed() throws IOException {
    // a link loop cannot be opened even by root
    Path dir = Files.createDirectories(tmp.resolve("ckpt"));
    Files.createSymbolicLink(dir.resolve("checkpoint"), dir.resolve("loop"));
    Files.createSymbolicLink(dir.resolve("loop"), dir.resolve("checkpoint"));
    refusal(dir, "cannot be read (");
  }

  @Test
  void aFileWithoutReadPermissionIsNamed() throws IOException {
    Path dir = Fixtures.copyTo("t5x_tiny_t5/checkpoint_1", tmp);
    Path file = dir.resolve("checkpoint");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("---------"));
    try {
      assumeFalse(canRead(file), "running as root: chmod 000 does not stop reads");
      refusal(dir, "cannot be read (permission denied)");
    } finally {
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
    }
  }

  private static boolean canRead(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      in.read();
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
