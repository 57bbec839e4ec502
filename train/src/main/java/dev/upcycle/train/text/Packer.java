package dev.upcycle.train.text;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Packs variable-length examples into fixed-length rows, T5X style. An example has one token
 * array per feature (for example {@code inputs} and {@code targets}), each feature has its own
 * row length. Greedy first fit in order: each example goes into the first row (oldest first)
 * where every one of its features still fits, else into a new row. Features longer than their
 * row length are truncated first; examples with every feature empty are dropped.
 *
 * <p>Each row carries, per feature, {@code tokens [length]} (padding = {@code padId}),
 * {@code segmentIds [length]} (1-based index of the example within the row, 0 = padding) and
 * {@code positions [length]} (0-based position within its example, 0 on padding).
 */
public final class Packer {

  /** One packed row; arrays are indexed {@code [feature][position]}. */
  public record Row(int[][] tokens, int[][] segmentIds, int[][] positions, int examples) {}

  private final int[] lengths;
  private final int padId;

  /** A packer for {@code lengths.length} features with these row lengths. */
  public Packer(int[] lengths, int padId) {
    checkNotNull(lengths, "lengths");
    checkArgument(lengths.length > 0, "at least one feature length is needed");
    for (int i = 0; i < lengths.length; i++) {
      checkArgument(lengths[i] > 0, "length of feature %s is %s, must be > 0", i, lengths[i]);
    }
    this.lengths = lengths.clone();
    this.padId = padId;
  }

  public int features() {
    return lengths.length;
  }

  /** Packs {@code examples} (each {@code [feature][tokens]}) into rows, in first-fit order. */
  public List<Row> pack(List<int[][]> examples) {
    checkNotNull(examples, "examples");
    List<RowBuilder> rows = new ArrayList<>();
    int index = 0;
    for (int[][] ex : examples) {
      checkArgument(ex != null && ex.length == lengths.length,
          "example %s has %s features, the packer has %s", index,
          ex == null ? null : ex.length, lengths.length);
      int[][] clipped = new int[ex.length][];
      boolean empty = true;
      for (int f = 0; f < ex.length; f++) {
        checkNotNull(ex[f], "feature %s of example %s", f, index);
        clipped[f] = ex[f].length > lengths[f] ? Arrays.copyOf(ex[f], lengths[f]) : ex[f];
        empty &= clipped[f].length == 0;
      }
      index++;
      if (empty) {
        continue;
      }
      RowBuilder target = null;
      for (RowBuilder r : rows) {
        if (r.fits(clipped)) {
          target = r;
          break;
        }
      }
      if (target == null) {
        target = new RowBuilder();
        rows.add(target);
      }
      target.add(clipped);
    }
    List<Row> out = new ArrayList<>(rows.size());
    for (RowBuilder r : rows) {
      out.add(r.build());
    }
    return out;
  }

  /** {@code tokens} cut to {@code length} or padded with {@code padId} up to it. */
  public static int[] padOrTruncate(int[] tokens, int length, int padId) {
    checkNotNull(tokens, "tokens");
    checkArgument(length >= 0, "length %s must be >= 0", length);
    int[] out = Arrays.copyOf(tokens, length);
    if (tokens.length < length) {
      Arrays.fill(out, tokens.length, length, padId);
    }
    return out;
  }

  private final class RowBuilder {
    final int[][] tokens = new int[lengths.length][];
    final int[][] segments = new int[lengths.length][];
    final int[][] positions = new int[lengths.length][];
    final int[] used = new int[lengths.length];
    int examples;

    RowBuilder() {
      for (int f = 0; f < lengths.length; f++) {
        tokens[f] = new int[lengths[f]];
        Arrays.fill(tokens[f], padId);
        segments[f] = new int[lengths[f]];
        positions[f] = new int[lengths[f]];
      }
    }

    boolean fits(int[][] ex) {
      for (int f = 0; f < ex.length; f++) {
        if (used[f] + ex[f].length > lengths[f]) {
          return false;
        }
      }
      return true;
    }

    void add(int[][] ex) {
      examples++;
      for (int f = 0; f < ex.length; f++) {
        for (int i = 0; i < ex[f].length; i++) {
          tokens[f][used[f] + i] = ex[f][i];
          segments[f][used[f] + i] = examples;
          positions[f][used[f] + i] = i;
        }
        used[f] += ex[f].length;
      }
    }

    Row build() {
      return new Row(tokens, segments, positions, examples);
    }
  }
}
