package dev.upcycle.model.graph;

import static com.google.common.base.Preconditions.checkArgument;

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

  /** Normal with stddev sqrt(scale / fanIn), fanIn = product of all but the last dimension. */
  record FanInNormal(double scale) implements Initializer {
    public FanInNormal {
      checkArgument(scale > 0, "scale must be > 0, got %s", scale);
    }
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
