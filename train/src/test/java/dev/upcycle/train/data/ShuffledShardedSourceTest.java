package dev.upcycle.train.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShuffledShardedSourceTest {

  @TempDir Path tmp;
  private final List<Path> files = new ArrayList<>();
  private final Set<String> all = new HashSet<>();

  @BeforeEach
  void writeFiles() throws IOException {
    for (int f = 0; f < 7; f++) {
      Path p = tmp.resolve(String.format("part-%02d.tfrecord", f));
      try (TfRecordWriter w = TfRecordWriter.create(p, f % 2 == 0 ? Compression.NONE : Compression.GZIP)) {
        for (int r = 0; r < 5 + 3 * f; r++) {
          String s = "f" + f + "-r" + r;
          w.write(s.getBytes(StandardCharsets.UTF_8));
          all.add(s);
        }
      }
      files.add(p);
    }
  }

  private List<String> read(ShuffledShardedSource.Config c, ShuffledShardedSource.Position start,
      int max) throws IOException {
    List<String> out = new ArrayList<>();
    try (ShuffledShardedSource s = new ShuffledShardedSource(c, start)) {
      ShuffledShardedSource.Record r;
      while (out.size() < max && (r = s.next()) != null) {
        out.add(new String(r.data(), StandardCharsets.UTF_8));
      }
    }
    return out;
  }

  private ShuffledShardedSource.Config config(int worker, int workers, long seed, int epochs) {
    return new ShuffledShardedSource.Config(files, worker, workers, seed, 16, epochs);
  }

  @Test
  void workersGetDisjointCompletePartitions() throws IOException {
    Set<String> union = new HashSet<>();
    int total = 0;
    for (int w = 0; w < 3; w++) {
      List<String> got = read(config(w, 3, 5, 1), ShuffledShardedSource.Position.START, 10_000);
      total += got.size();
      union.addAll(got);
      assertEquals(got.size(), new HashSet<>(got).size(), "no record twice within a worker");
    }
    assertEquals(all.size(), total);
    assertEquals(all, union);
  }

  @Test
  void sameSeedSameOrderOtherSeedOtherOrderAndActuallyShuffled() throws IOException {
    List<String> a = read(config(0, 1, 11, 1), ShuffledShardedSource.Position.START, 10_000);
    List<String> b = read(config(0, 1, 11, 1), ShuffledShardedSource.Position.START, 10_000);
    List<String> c = read(config(0, 1, 12, 1), ShuffledShardedSource.Position.START, 10_000);
    assertEquals(a, b);
    assertNotEquals(a, c);
    assertEquals(all, new HashSet<>(a));
    assertEquals(all.size(), a.size());
    List<String> fileOrder = new ArrayList<>(a);
    fileOrder.sort(null);
    assertNotEquals(fileOrder, a);
  }

  @Test
  void epochsEachCoverEverythingInDifferentOrders() throws IOException {
    List<String> two = read(config(1, 2, 3, 2), ShuffledShardedSource.Position.START, 10_000);
    int n = two.size() / 2;
    List<String> e0 = two.subList(0, n);
    List<String> e1 = two.subList(n, 2 * n);
    assertEquals(new HashSet<>(e0), new HashSet<>(e1));
    assertEquals(n, new HashSet<>(e0).size());
    assertNotEquals(e0, e1);
  }

  @Test
  void resumingAtAPositionReproducesTheTail() throws IOException {
    ShuffledShardedSource.Config c = config(0, 2, 99, 3);
    List<String> full = read(c, ShuffledShardedSource.Position.START, 10_000);
    int perEpoch = full.size() / 3;
    for (int k : new int[] {0, 1, 17, perEpoch - 1, perEpoch, perEpoch + 5, 2 * perEpoch + 3}) {
      ShuffledShardedSource.Position pos;
      try (ShuffledShardedSource s = new ShuffledShardedSource(c, ShuffledShardedSource.Position.START)) {
        for (int i = 0; i < k; i++) {
          s.next();
        }
        pos = s.position();
      }
      // the epoch advances on the call after an epoch's last record
      assertEquals(k == 0 ? 0 : (k - 1) / perEpoch, pos.epoch(), "epoch after " + k);
      List<String> tail = read(c, pos, 10_000);
      assertEquals(full.subList(k, full.size()), tail, "resume after " + k);
    }
    // the equivalent position (epoch 1, 0) gives the same sequence as (0, perEpoch)
    assertEquals(full.subList(perEpoch, full.size()),
        read(c, new ShuffledShardedSource.Position(1, 0), 10_000));
  }

  @Test
  void endlessWhenEpochsIsZeroAndBadConfigsAreRejected() throws IOException {
    List<String> many = read(config(0, 1, 1, 0), ShuffledShardedSource.Position.START, 500);
    assertEquals(500, many.size());
    assertThrows(IllegalArgumentException.class, () -> config(3, 3, 0, 1));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new ShuffledShardedSource.Config(files, 0, 8, 0, 4, 1));
    assertTrue(e.getMessage().contains("7 files cannot be sharded over 8 workers"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> read(config(0, 1, 1, 1),
        new ShuffledShardedSource.Position(0, all.size() + 1), 10));
    try (ShuffledShardedSource s = new ShuffledShardedSource(config(0, 1, 1, 1),
        new ShuffledShardedSource.Position(0, all.size()))) {
      assertNull(s.next());
    }
  }
}
