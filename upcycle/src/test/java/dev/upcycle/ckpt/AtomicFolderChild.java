package dev.upcycle.ckpt;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * A child-process entry point for the {@link AtomicFolder} tests. {@code publish TARGET}: publishes
 * generation 1, 2, 3, ... of a folder at TARGET (overwriting the one before) until killed, printing
 * {@code STARTED} and then {@code COMMITTED n} after each. {@code wait}: a live process that ends
 * when its stdin closes.
 */
public final class AtomicFolderChild {

  /** Data files per generation. */
  static final int FILES = 6;
  /** Bytes per data file, each byte the generation's number. */
  static final int SIZE = 256 << 10;
  /** The file written last, naming the generation: {@code <generation> <files> <size>}. */
  static final String MANIFEST = "manifest.txt";

  private AtomicFolderChild() {}

  public static void main(String[] args) throws Exception {
    if (args[0].equals("wait")) {
      System.in.readAllBytes();
      return;
    }
    Path target = Path.of(args[1]);
    System.out.println("STARTED");
    System.out.flush();
    for (int gen = 1; ; gen++) {
      try (AtomicFolder out = AtomicFolder.stage(target, true)) {
        write(out.path(), gen);
        out.commit();
      }
      System.out.println("COMMITTED " + gen);
      System.out.flush();
    }
  }

  private static void write(Path dir, int gen) throws IOException {
    byte[] data = new byte[SIZE];
    Arrays.fill(data, (byte) gen);
    for (int i = 0; i < FILES; i++) {
      Files.write(dir.resolve("part-" + i), data);
    }
    Files.writeString(dir.resolve(MANIFEST), gen + " " + FILES + " " + SIZE, StandardCharsets.UTF_8);
  }

  /** The generation of a complete folder; fails when anything is missing or mixed. */
  static int check(Path dir) throws IOException {
    String[] m = Files.readString(dir.resolve(MANIFEST), StandardCharsets.UTF_8).split(" ");
    int gen = Integer.parseInt(m[0]);
    if (Integer.parseInt(m[1]) != FILES || Integer.parseInt(m[2]) != SIZE) {
      throw new AssertionError(dir + ": manifest " + Arrays.toString(m));
    }
    try (var s = Files.list(dir)) {
      List<String> names = s.map(p -> p.getFileName().toString()).sorted().toList();
      if (names.size() != FILES + 1) {
        throw new AssertionError(dir + " holds " + names);
      }
    }
    for (int i = 0; i < FILES; i++) {
      byte[] b = Files.readAllBytes(dir.resolve("part-" + i));
      if (b.length != SIZE) {
        throw new AssertionError(dir + "/part-" + i + ": " + b.length + " bytes, expected " + SIZE);
      }
      for (byte x : b) {
        if (x != (byte) gen) {
          throw new AssertionError(dir + "/part-" + i + " mixes generations: " + x + " in generation " + gen);
        }
      }
    }
    return gen;
  }
}
