package dev.upcycle.model.graph;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import dev.upcycle.model.names.CanonicalNames;

/** How a fresh variable is filled. Random ones are stateless, seeded by the store seed and the name. */
public sealed interface Initializer {

  /** All zeros. */
  record Zeros() implements Initializer {}

  /** All ones (norm scales). */
  record Ones() implements Initializer {}

  /** Normal(0, stddev). */
  record Normal(double stddev) implements Initializer {
    public Normal {
      checkArgument(stddev > 0, "stddev must be > 0, got %s", stddev);
    }
  }

  /** Normal with stddev sqrt(scale / fanIn), fanIn per {@link Initializer#fanInOf}. */
  record FanInNormal(double scale) implements Initializer {
    public FanInNormal {
      checkArgument(scale > 0, "scale must be > 0, got %s", scale);
    }
  }

  /**
   * The fan-in of variable {@code name} of {@code shape}: the product of all but the last
   * dimension (a kernel [in, out], a patch kernel [p, p, c, d]), leaving out the leading expert axis
   * of a stacked expert weight ({@link CanonicalNames#isExpert}): expert e of [E, d, d_ff] has fan-in
   * d, as its own dense MLP [d, d_ff] would, not E·d. This is the one fan-in rule, of the graph's
   * variables and of the upcycler's fresh tensors alike.
   */
  static long fanInOf(String name, long[] shape) {
    checkNotNull(name, "variable name");
    checkNotNull(shape, "shape of %s", name);
    int first = CanonicalNames.isExpert(name) && shape.length >= 2 ? 1 : 0;
    long fanIn = 1;
    for (int i = first; i < shape.length - 1; i++) {
      fanIn = Math.multiplyExact(fanIn, shape[i]);
    }
    return fanIn;
  }

  /** The standard deviation of a random initializer (Normal, FanInNormal) for {@code name} of {@code shape}. */
  static double stddev(Initializer init, String name, long[] shape) {
    if (init instanceof Normal n) {
      return n.stddev();
    }
    if (init instanceof FanInNormal f) {
      return Math.sqrt(f.scale() / Math.max(1, fanInOf(name, shape)));
    }
    throw new IllegalArgumentException("variable " + name + ": initializer " + init + " is not a random one");
  }

  static Initializer zeros() {
    return new Zeros();
  }

  static Initializer ones() {
    return new Ones();
  }

  static Initializer normal(double stddev) {
    return new Normal(stddev);
  }

  static Initializer fanIn(double scale) {
    return new FanInNormal(scale);
  }

  /** Parses {@code zeros}, {@code ones}, {@code normal:0.02}, {@code fan_in:1.0}. */
  static Initializer parse(String text) {
    String t = text.trim();
    if (t.equals("zeros")) {
      return zeros();
    }
    if (t.equals("ones")) {
      return ones();
    }
    int colon = t.indexOf(':');
    checkArgument(colon > 0, "initializer '%s': expected zeros, ones, normal:STD or fan_in:SCALE", text);
    double v;
    try {
      v = Double.parseDouble(t.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("initializer '" + text + "': '" + t.substring(colon + 1) + "' is not a number");
    }
    return switch (t.substring(0, colon)) {
      case "normal" -> normal(v);
      case "fan_in" -> fanIn(v);
      default -> throw new IllegalArgumentException(
          "initializer '" + text + "': expected zeros, ones, normal:STD or fan_in:SCALE");
    };
  }
}
