package dev.upcycle.train.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PackerTest {

  private static int[] seq(int from, int n) {
    int[] a = new int[n];
    for (int i = 0; i < n; i++) {
      a[i] = from + i;
    }
    return a;
  }

  @Test
  void firstFitInOrderWithSegmentsAndPositions() {
    Packer p = new Packer(new int[] {8}, 0);
    // lengths 5, 4, 3, 2: 5 -> row0; 4 -> row1 (5+4 > 8); 3 -> row0 (5+3 = 8); 2 -> row1
    List<Packer.Row> rows = p.pack(List.of(
        new int[][] {seq(10, 5)}, new int[][] {seq(20, 4)},
        new int[][] {seq(30, 3)}, new int[][] {seq(40, 2)}));
    assertEquals(2, rows.size());
    assertArrayEquals(new int[] {10, 11, 12, 13, 14, 30, 31, 32}, rows.get(0).tokens()[0]);
    assertArrayEquals(new int[] {1, 1, 1, 1, 1, 2, 2, 2}, rows.get(0).segmentIds()[0]);
    assertArrayEquals(new int[] {0, 1, 2, 3, 4, 0, 1, 2}, rows.get(0).positions()[0]);
    assertArrayEquals(new int[] {20, 21, 22, 23, 40, 41, 0, 0}, rows.get(1).tokens()[0]);
    assertArrayEquals(new int[] {1, 1, 1, 1, 2, 2, 0, 0}, rows.get(1).segmentIds()[0]);
    assertArrayEquals(new int[] {0, 1, 2, 3, 0, 1, 0, 0}, rows.get(1).positions()[0]);
    assertEquals(2, rows.get(1).examples());
  }

  @Test
  void twoFeaturesMustBothFit() {
    Packer p = new Packer(new int[] {6, 3}, 0);
    List<Packer.Row> rows = p.pack(List.of(
        new int[][] {seq(1, 2), seq(100, 2)},
        new int[][] {seq(5, 2), seq(200, 2)},   // inputs fit row0, targets do not -> row1
        new int[][] {seq(9, 2), seq(300, 1)})); // fits row0
    assertEquals(2, rows.size());
    assertArrayEquals(new int[] {1, 2, 9, 10, 0, 0}, rows.get(0).tokens()[0]);
    assertArrayEquals(new int[] {100, 101, 300}, rows.get(0).tokens()[1]);
    assertArrayEquals(new int[] {1, 1, 2}, rows.get(0).segmentIds()[1]);
    assertArrayEquals(new int[] {5, 6, 0, 0, 0, 0}, rows.get(1).tokens()[0]);
  }

  @Test
  void everyTokenAppearsExactlyOnceAndSegmentsRebuildExamples() {
    Random r = new Random(3);
    List<int[][]> examples = new ArrayList<>();
    int next = 1;
    for (int i = 0; i < 200; i++) {
      int n = 1 + r.nextInt(30);
      examples.add(new int[][] {seq(next, n)});
      next += n;
    }
    List<Packer.Row> rows = new Packer(new int[] {64}, 0).pack(examples);
    boolean[] seen = new boolean[next];
    int exampleCount = 0;
    for (Packer.Row row : rows) {
      exampleCount += row.examples();
      int[] t = row.tokens()[0];
      int[] s = row.segmentIds()[0];
      int[] pos = row.positions()[0];
      for (int i = 0; i < t.length; i++) {
        if (s[i] == 0) {
          assertEquals(0, t[i]);
          continue;
        }
        assertTrue(!seen[t[i]], "token " + t[i] + " packed twice");
        seen[t[i]] = true;
        if (pos[i] > 0) {
          assertEquals(t[i - 1] + 1, t[i]);
          assertEquals(s[i - 1], s[i]);
        }
      }
    }
    assertEquals(200, exampleCount);
    for (int v = 1; v < next; v++) {
      assertTrue(seen[v], "token " + v + " lost");
    }
  }

  @Test
  void truncatesLongExamplesAndDropsEmptyOnes() {
    List<Packer.Row> rows = new Packer(new int[] {4}, 0).pack(List.of(
        new int[][] {seq(1, 10)}, new int[][] {new int[0]}));
    assertEquals(1, rows.size());
    assertArrayEquals(new int[] {1, 2, 3, 4}, rows.get(0).tokens()[0]);
    assertEquals(1, rows.get(0).examples());
  }

  @Test
  void padOrTruncate() {
    assertArrayEquals(new int[] {7, 8, 9}, Packer.padOrTruncate(new int[] {7, 8, 9, 10}, 3, 0));
    assertArrayEquals(new int[] {7, -1, -1}, Packer.padOrTruncate(new int[] {7}, 3, -1));
    assertThrows(IllegalArgumentException.class, () -> new Packer(new int[] {0}, 0));
    assertThrows(IllegalArgumentException.class,
        () -> new Packer(new int[] {4, 4}, 0).pack(List.<int[][]>of(new int[][] {seq(1, 2)})));
  }
}
