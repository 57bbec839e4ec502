package dev.upcycle.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.ckpt.AtomicFolder;
import dev.upcycle.ckpt.DType;
import dev.upcycle.model.T5Config;
import dev.upcycle.synthetic.SyntheticCheckpoint;
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

  /** A small dense T5 with MLPs to upcycle, as a TF bundle in {@code folder}. */
  private static Path denseT5(Path folder) throws Exception {
    SyntheticCheckpoint.writeT5(folder.resolve("model.ckpt-3"), new T5Config(16, 32, 2, 8, 2, 2, 64, 8, 32, 0),
        DType.FLOAT32, SyntheticCheckpoint.Slots.NONE, 3, 1);
    return folder;
  }

  @Test
  void t5xOutputFoldersHaveTheUmasksModeAndNoStageIsLeft() throws Exception {
    Path from = denseT5(tmp.resolve("dense"));
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

  /** {@code --to} inside {@code --from} (directly, or through a symlinked parent) is refused like {@code --to} = {@code --from}. */
  @Test
  void outputInsideTheSourceFolderIsRefused() throws Exception {
    Path src = tmp.resolve("src");
    Path from = denseT5(src.resolve("checkpoint_1"));
    UpcycleOptions options = UpcycleOptions.defaults(2);
    for (Path to : List.of(from.resolve("moe"), from.resolve("a/b"), from.resolve("x/../moe"))) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> ConvertJob.run(from, to, options, Optional.empty(), true, false, ProgressListener.NONE), to.toString());
      assertTrue(e.getMessage().contains("inside the source") && e.getMessage().contains(from.toString()), e.getMessage());
    }
    Path link = Files.createSymbolicLink(tmp.resolve("link"), from);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ConvertJob.run(from, link.resolve("moe"), options, Optional.empty(), true, false, ProgressListener.NONE));
    assertTrue(e.getMessage().contains("inside the source"), e.getMessage());
    // a sibling of the source folder is fine
    assertTrue(!ConvertJob.run(from, src.resolve("moe"), options, Optional.empty(), true, false, ProgressListener.NONE)
        .written());
  }
}
