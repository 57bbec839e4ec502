package dev.upcycle.ckpt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFolderTest {

  @TempDir Path tmp;

  private static List<String> names(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  /** A file written through a stream that fails like a full disk after {@code budget} bytes. */
  private static void writeUntilFull(Path file, int size, int budget) throws IOException {
    int[] left = {budget};
    try (OutputStream out = new FilterOutputStream(Files.newOutputStream(file)) {
      @Override
      public void write(int b) throws IOException {
        if (left[0]-- <= 0) {
          throw new IOException("No space left on device");
        }
        out.write(b);
      }
    }) {
      for (int i = 0; i < size; i++) {
        out.write(i);
      }
    }
  }

  /** The pid of a process that has ended. */
  private static long deadPid() throws Exception {
    Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-version")
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assertFalse(ProcessHandle.of(p.pid()).map(ProcessHandle::isAlive).orElse(false));
    return p.pid();
  }

  @Test
  void commitMakesTheTargetWithTheFiles() throws Exception {
    Path target = tmp.resolve("a/b/out");
    try (AtomicFolder f = AtomicFolder.stage(target, false)) {
      assertEquals(target, f.target());
      assertTrue(AtomicFolder.isStage(f.path()), f.path().toString());
      assertEquals(target.getParent(), f.path().getParent(), "the stage lies beside the target");
      Files.writeString(f.path().resolve("x.txt"), "x");
      Files.writeString(Files.createDirectory(f.path().resolve("sub")).resolve("y.txt"), "y");
      assertFalse(Files.exists(target), "nothing at the target before commit");
      assertEquals(target, f.commit());
      assertThrows(IllegalStateException.class, f::commit);
    }
    assertEquals("x", Files.readString(target.resolve("x.txt")));
    assertEquals("y", Files.readString(target.resolve("sub/y.txt")));
    assertEquals(List.of("out"), names(target.getParent()), "no stage left beside it");
  }

  @Test
  void closeWithoutCommitLeavesNothing() throws Exception {
    Path target = tmp.resolve("out");
    try (AtomicFolder f = AtomicFolder.stage(target, false)) {
      Files.write(f.path().resolve("data"), new byte[1000]);
    }
    assertEquals(List.of(), names(tmp));
  }

  @Test
  void refusesAnExistingTargetWithoutOverwriteAndNamesIt() throws Exception {
    Path target = Files.createDirectory(tmp.resolve("out"));
    FileAlreadyExistsException e = assertThrows(FileAlreadyExistsException.class,
        () -> AtomicFolder.stage(target, false));
    assertTrue(e.getMessage().contains(target.toString()) && e.getMessage().contains("--overwrite"), e.getMessage());
    assertThrows(FileAlreadyExistsException.class, () -> AtomicFolder.checkTarget(target, false));
    AtomicFolder.checkTarget(target, true);
    assertEquals(List.of("out"), names(tmp), "no stage was made");

    // a target that appears while the stage is written is not replaced either
    Path later = tmp.resolve("later");
    try (AtomicFolder f = AtomicFolder.stage(later, false)) {
      Files.writeString(f.path().resolve("new.txt"), "new");
      Files.createDirectory(later);
      Files.writeString(later.resolve("theirs.txt"), "theirs");
      FileAlreadyExistsException c = assertThrows(FileAlreadyExistsException.class, f::commit);
      assertTrue(c.getMessage().contains(later.toString()), c.getMessage());
    }
    assertEquals(List.of("theirs.txt"), names(later));
    assertEquals(List.of("later", "out"), names(tmp));
  }

  @Test
  void overwriteReplacesAndAFullDiskMidwayKeepsTheOldTarget() throws Exception {
    Path target = Files.createDirectory(tmp.resolve("out"));
    Files.writeString(target.resolve("old.txt"), "old");

    IOException e = assertThrows(IOException.class, () -> {
      try (AtomicFolder f = AtomicFolder.stage(target, true)) {
        Files.writeString(f.path().resolve("first.txt"), "fits");
        writeUntilFull(f.path().resolve("big.bin"), 1 << 20, 4096);
        f.commit();
      }
    });
    assertTrue(e.getMessage().contains("No space left on device"), e.getMessage());
    assertEquals(List.of("out"), names(tmp), "no stage behind");
    assertEquals(List.of("old.txt"), names(target), "the old target intact");
    assertEquals("old", Files.readString(target.resolve("old.txt")));

    try (AtomicFolder f = AtomicFolder.stage(target, true)) {
      Files.writeString(f.path().resolve("new.txt"), "new");
      f.commit();
    }
    assertEquals(List.of("new.txt"), names(target), "replaced, nothing of the old left");
    assertEquals(List.of("out"), names(tmp), "neither stage nor old folder left");
  }

  @Test
  void staleStagesOfEndedProcessesGoLiveOnesStay() throws Exception {
    Path target = tmp.resolve("out");
    long dead = deadPid();
    Path deadStage = Files.createDirectory(tmp.resolve(".out.stage-" + dead + "-0123456789ab"));
    Files.writeString(deadStage.resolve("partial"), "p");
    Path deadTrash = Files.createDirectory(tmp.resolve(".out.trash-" + dead + "-0123456789ab"));
    Path otherTarget = Files.createDirectory(tmp.resolve(".other.stage-" + dead + "-0123456789ab"));
    Process live = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), AtomicFolderChild.class.getName(), "wait").start();
    try {
      Path liveStage = Files.createDirectory(tmp.resolve(".out.stage-" + live.pid() + "-ba9876543210"));
      Path ownStage = Files.createDirectory(tmp.resolve(".out.stage-" + ProcessHandle.current().pid() + "-aaaaaaaaaaaa"));
      try (AtomicFolder f = AtomicFolder.stage(target, false)) {
        assertFalse(Files.exists(deadStage), "a dead process's stage is removed");
        assertFalse(Files.exists(deadTrash), "a dead process's half-deleted folder is removed");
        assertTrue(Files.exists(liveStage), "a live process's stage is kept");
        assertTrue(Files.exists(ownStage), "this process's other stages are kept");
        assertTrue(Files.exists(otherTarget), "stages of other targets are not touched by this one");
        f.commit();
      }
      assertEquals(1, AtomicFolder.removeStaleIn(tmp), "the other target's stale stage");
      assertFalse(Files.exists(otherTarget));
      assertTrue(Files.exists(liveStage));
    } finally {
      live.getOutputStream().close(); // the child waits for its stdin to close
      assertTrue(live.waitFor(60, TimeUnit.SECONDS));
    }
  }

  @Test
  void anOldFolderOfAProcessKilledMidOverwriteIsPutBack() throws Exception {
    Path target = tmp.resolve("out");
    Path old = Files.createDirectory(tmp.resolve(".out.old-" + deadPid() + "-0123456789ab"));
    Files.writeString(old.resolve("complete.txt"), "c");
    assertEquals(1, AtomicFolder.removeStale(target));
    assertEquals("c", Files.readString(target.resolve("complete.txt")));
    assertEquals(List.of("out"), names(tmp));

    // with the target there, a dead process's old folder is only removed
    Path old2 = Files.createDirectory(tmp.resolve(".out.old-" + deadPid() + "-0123456789ab"));
    try (AtomicFolder f = AtomicFolder.stage(target, true)) {
      assertFalse(Files.exists(old2));
    }
    assertEquals(List.of("complete.txt"), names(target));
  }

  @Test
  void folderModeFollowsTheUmask() throws Exception {
    Set<PosixFilePermission> plain = Files.getPosixFilePermissions(Files.createDirectory(tmp.resolve("plain")));
    Path target = tmp.resolve("out");
    try (AtomicFolder f = AtomicFolder.stage(target, false)) {
      assertEquals(plain, Files.getPosixFilePermissions(f.path()));
      f.commit();
    }
    assertEquals(plain, Files.getPosixFilePermissions(target));
    Path nested = tmp.resolve("p/q/out");
    try (AtomicFolder f = AtomicFolder.stage(nested, false)) {
      f.commit();
    }
    assertEquals(plain, Files.getPosixFilePermissions(nested));
    assertEquals(plain, Files.getPosixFilePermissions(nested.getParent()), "parents made too");
  }

  @Test
  void deleteRenamesAsideThenRemoves() throws Exception {
    Path target = Files.createDirectory(tmp.resolve("step_000100"));
    Files.writeString(target.resolve("f"), "f");
    AtomicFolder.delete(target);
    assertEquals(List.of(), names(tmp));
    AtomicFolder.delete(target); // nothing there: nothing happens
  }

  @Test
  void isStageKnowsOnlyItsOwnNames() {
    assertTrue(AtomicFolder.isStage(Path.of("/x/.out.stage-123-0123456789ab")));
    assertTrue(AtomicFolder.isStage(Path.of(".step_000100.old-9-abcdefabcdef")));
    assertTrue(AtomicFolder.isStage(Path.of(".1.trash-9-abcdefabcdef")));
    assertFalse(AtomicFolder.isStage(Path.of("/x/out")));
    assertFalse(AtomicFolder.isStage(Path.of("/x/.out")));
    assertFalse(AtomicFolder.isStage(Path.of(".out.stage-123-xyz")));
    assertFalse(AtomicFolder.isStage(Path.of(".out.tmp-123-0123456789ab")));
    assertFalse(AtomicFolder.isStage(Path.of("/")));
  }

  @Test
  void aTargetMustHaveAParent() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> AtomicFolder.stage(Path.of("/"), false));
    assertTrue(e.getMessage().contains("below the root"), e.getMessage());
  }
}
