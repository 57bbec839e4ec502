package dev.upcycle.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.ckpt.AtomicFolder;
import dev.upcycle.model.testing.Fixtures;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A T5X conversion output is published through {@link AtomicFolder}: every folder in it has the umask's mode. */
class ConvertOutputFoldersTest {

  @TempDir Path tmp;

  @Test
  void t5xOutputFoldersHaveTheUmasksModeAndNoStageIsLeft() throws Exception {
    Path from = Fixtures.fixture("t5x_tiny_t5/checkpoint_1");
    Path to = tmp.resolve("moe");
    UpcycleOptions t5x = UpcycleOptions.defaults(2).withOutputFormat(UpcycleOptions.OutputFormat.T5X);
    ConvertResult r = ConvertJob.run(from, to, t5x, Optional.empty(), false, false, ProgressListener.NONE);
    assertTrue(r.written());
    Set<PosixFilePermission> plain = Files.getPosixFilePermissions(Files.createDirectory(tmp.resolve("plain")));
    List<Path> folders;
    try (Stream<Path> walk = Files.walk(to)) {
      folders = walk.filter(Files::isDirectory).toList();
    }
    assertTrue(folders.contains(to.resolve("checkpoint_" + r.step())), folders.toString());
    for (Path f : folders) {
      assertEquals(plain, Files.getPosixFilePermissions(f), f.toString());
    }
    try (Stream<Path> s = Files.list(tmp)) {
      assertTrue(s.noneMatch(AtomicFolder::isStage));
    }
    FileAlreadyExistsException e = assertThrows(FileAlreadyExistsException.class,
        () -> ConvertJob.run(from, to, t5x, Optional.empty(), false, false, ProgressListener.NONE));
    assertTrue(e.getMessage().contains(to.toString()), e.getMessage());
  }
}
