package dev.upcycle.model;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import com.google.common.collect.ImmutableSortedSet;
import java.util.Arrays;
import java.util.Locale;

/**
 * Which layers of one stack are MoE layers: none, every other (odd 0-based indices, the paper's
 * T5 layout), the last n, or an explicit list.
 */
public record SparseLayout(Kind kind, int lastN, ImmutableSortedSet<Integer> explicit) {

  /** The kinds of layout. */
  public enum Kind { NONE, EVERY_OTHER, LAST_N, EXPLICIT }

  public SparseLayout {
    checkNotNull(kind, "layout kind");
    checkNotNull(explicit, "explicit layers");
    checkArgument(kind != Kind.LAST_N || lastN >= 1, "last_n needs n >= 1, got %s", lastN);
    checkArgument(kind == Kind.EXPLICIT || explicit.isEmpty(), "explicit layers given for layout %s", kind);
    for (int i : explicit) {
      checkArgument(i >= 0, "sparse layer index must be >= 0, got %s", i);
    }
  }

  public static final SparseLayout DENSE = new SparseLayout(Kind.NONE, 0, ImmutableSortedSet.of());
  public static final SparseLayout EVERY_OTHER = new SparseLayout(Kind.EVERY_OTHER, 0, ImmutableSortedSet.of());

  public static SparseLayout lastN(int n) {
    return new SparseLayout(Kind.LAST_N, n, ImmutableSortedSet.of());
  }

  public static SparseLayout layers(Integer... indices) {
    return new SparseLayout(Kind.EXPLICIT, 0, ImmutableSortedSet.copyOf(Arrays.asList(indices)));
  }

  /**
   * Parses {@code none}, {@code every_other}, {@code last_N} / {@code last_n:N}, or a comma list
   * such as {@code 1,3,5}.
   */
  public static SparseLayout parse(String text) {
    String t = text.trim().toLowerCase(Locale.ROOT);
    if (t.equals("none") || t.equals("dense")) {
      return DENSE;
    }
    if (t.equals("every_other") || t.equals("every-other")) {
      return EVERY_OTHER;
    }
    if (t.startsWith("last_n:") || t.startsWith("last_")) {
      String n = t.substring(t.indexOf(t.startsWith("last_n:") ? ':' : '_') + 1);
      try {
        return lastN(Integer.parseInt(n));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("layout '" + text + "': expected last_N with a number N");
      }
    }
    try {
      return layers(Arrays.stream(t.split(",")).map(String::trim).map(Integer::valueOf).toArray(Integer[]::new));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "layout '" + text + "': expected none, every_other, last_N or a list like 1,3,5");
    }
  }

  /** The sparse layer indices for a stack of {@code numLayers}; explicit indices must be in range. */
  public ImmutableSortedSet<Integer> sparseLayers(int numLayers) {
    ImmutableSortedSet.Builder<Integer> b = ImmutableSortedSet.naturalOrder();
    switch (kind) {
      case NONE -> { }
      case EVERY_OTHER -> {
        for (int i = 1; i < numLayers; i += 2) {
          b.add(i);
        }
      }
      case LAST_N -> {
        checkArgument(lastN <= numLayers, "last_%s asks for more MoE layers than the %s in the stack", lastN, numLayers);
        for (int i = numLayers - lastN; i < numLayers; i++) {
          b.add(i);
        }
      }
      case EXPLICIT -> {
        for (int i : explicit) {
          checkArgument(i < numLayers, "sparse layer %s is out of range for a stack of %s layers", i, numLayers);
          b.add(i);
        }
      }
    }
    return b.build();
  }

  public boolean isSparse(int layer, int numLayers) {
    return sparseLayers(numLayers).contains(layer);
  }

  @Override
  public String toString() {
    return switch (kind) {
      case NONE -> "none";
      case EVERY_OTHER -> "every_other";
      case LAST_N -> "last_" + lastN;
      case EXPLICIT -> String.join(",", explicit.stream().map(String::valueOf).toList());
    };
  }
}
