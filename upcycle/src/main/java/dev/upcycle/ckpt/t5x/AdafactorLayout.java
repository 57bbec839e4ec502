package dev.upcycle.ckpt.t5x;

import static com.google.common.base.Preconditions.checkNotNull;

import dev.upcycle.ckpt.DType;
import dev.upcycle.ckpt.TensorInfo;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The layout of T5X's Adafactor parameter state ({@code t5x/adafactor.py}, {@code
 * _AdafactorParamState}): the state of every parameter {@code state/param_states/<param path>/}
 * holds all four slots {@code v_row}, {@code v_col}, {@code v} and {@code m}, and the slots the
 * optimizer does not use are float32 zeros of shape [1] ({@code jnp.zeros((1,))}):
 * <ul>
 *   <li>factored second moment: {@code v_row}, {@code v_col} real, {@code v} [1];
 *   <li>unfactored: {@code v} real (shaped like the parameter), {@code v_row}, {@code v_col} [1];
 *   <li>no momentum ({@code beta1 = None}): {@code m} [1]; with momentum {@code m} is shaped like
 *       the parameter.
 * </ul>
 * Our canonical state (DESIGN.md §3) holds only the real slots. {@link #missing} lists the
 * placeholders a writer adds to reach T5X's layout; {@link #placeholders} finds them again in a
 * T5X-layout checkpoint so a reader can leave them out. Names here are T5X tree paths as {@link
 * T5xCheckpointReader} lists them: parameters {@code target/<path>}, slots {@code
 * state/param_states/<path>/<slot>}.
 */
public final class AdafactorLayout {

  /** The four slots of T5X's {@code _AdafactorParamState}. */
  public static final List<String> SLOTS = List.of("v_row", "v_col", "v", "m");
  /** Element type of an unused slot ({@code jnp.zeros((1,))} is float32). */
  public static final DType PLACEHOLDER_DTYPE = DType.FLOAT32;

  private static final long[] PLACEHOLDER_SHAPE = {1};
  private static final String TARGET = "target/";
  private static final Pattern SLOT = Pattern.compile("state/param_states/(.+)/(v_row|v_col|v|m)");

  private AdafactorLayout() {}

  /** The shape of an unused slot: [1]. */
  public static long[] placeholderShape() {
    return PLACEHOLDER_SHAPE.clone();
  }

  /**
   * The unused slots to add so that every parameter with any Adafactor slot among {@code written}
   * holds all four: float32 [1] tensors named {@code state/param_states/<path>/<slot>}, sorted.
   *
   * @throws IllegalArgumentException naming the parameter when its slots are neither {@code v} nor
   *     the pair {@code v_row}, {@code v_col} (T5X's Adafactor would not restore them)
   */
  public static List<TensorInfo> missing(Collection<TensorInfo> written) {
    checkNotNull(written, "written");
    List<TensorInfo> out = new ArrayList<>();
    for (Map.Entry<String, Map<String, TensorInfo>> group : groups(written).entrySet()) {
      Set<String> have = group.getValue().keySet();
      boolean factored = have.contains("v_row") && have.contains("v_col");
      if (!factored && !have.contains("v")) {
        throw new IllegalArgumentException("optimizer state of " + group.getKey() + " holds " + new TreeSet<>(have)
            + ": T5X's Adafactor needs 'v' or both 'v_row' and 'v_col' for every parameter");
      }
      for (String slot : SLOTS) {
        if (!have.contains(slot)) {
          out.add(new TensorInfo(slotName(group.getKey(), slot), PLACEHOLDER_DTYPE, PLACEHOLDER_SHAPE));
        }
      }
    }
    out.sort((a, b) -> a.name().compareTo(b.name()));
    return out;
  }

  /**
   * The slots among {@code stored} that are T5X's unused [1] placeholders, decided from shapes
   * alone (nothing is read). A slot of shape [1] is a placeholder when
   * <ul>
   *   <li>{@code m} or {@code v}: the parameter's shape is not [1] (a real one is shaped like it);
   *   <li>{@code v_row} or {@code v_col}: the parameter's {@code v} is real, or the parameter has
   *       rank &lt; 2 (T5X factors only matrices and up).
   * </ul>
   * Without the parameter in {@code stored}, its shape is taken from a real {@code v}; failing
   * that {@code v} [1] is a placeholder when {@code v_row} or {@code v_col} is larger than [1], and
   * {@code m} [1] is kept.
   */
  public static Set<String> placeholders(Collection<TensorInfo> stored) {
    checkNotNull(stored, "stored");
    Map<String, long[]> params = new HashMap<>();
    for (TensorInfo t : stored) {
      if (t.name().startsWith(TARGET)) {
        params.put(t.name().substring(TARGET.length()), t.shape());
      }
    }
    Set<String> out = new TreeSet<>();
    for (Map.Entry<String, Map<String, TensorInfo>> group : groups(stored).entrySet()) {
      Map<String, TensorInfo> slots = group.getValue();
      long[] param = params.get(group.getKey());
      TensorInfo v = slots.get("v");
      if (param == null && v != null && !isOne(v)) {
        param = v.shape();
      }
      boolean vPlaceholder;
      if (param != null) {
        vPlaceholder = v != null && isOne(v) && !Arrays.equals(param, PLACEHOLDER_SHAPE);
      } else {
        vPlaceholder = v != null && isOne(v) && (larger(slots.get("v_row")) || larger(slots.get("v_col")));
      }
      boolean vReal = v != null && !vPlaceholder;
      for (TensorInfo slot : slots.values()) {
        if (!isOne(slot)) {
          continue;
        }
        String kind = slot.name().substring(slot.name().lastIndexOf('/') + 1);
        boolean placeholder = switch (kind) {
          case "v" -> vPlaceholder;
          case "m" -> param != null && !Arrays.equals(param, PLACEHOLDER_SHAPE);
          default -> vReal || param != null && param.length < 2;
        };
        if (placeholder) {
          out.add(slot.name());
        }
      }
    }
    return out;
  }

  /** {@code state/param_states/<param>/<slot>}. */
  static String slotName(String param, String slot) {
    return "state/param_states/" + param + "/" + slot;
  }

  /** Adafactor slots by parameter path, sorted. */
  private static Map<String, Map<String, TensorInfo>> groups(Collection<TensorInfo> tensors) {
    Map<String, Map<String, TensorInfo>> out = new TreeMap<>();
    for (TensorInfo t : tensors) {
      Matcher m = SLOT.matcher(t.name());
      if (m.matches()) {
        out.computeIfAbsent(m.group(1), k -> new TreeMap<>()).put(m.group(2), t);
      }
    }
    return out;
  }

  private static boolean isOne(TensorInfo t) {
    return Arrays.equals(t.shape(), PLACEHOLDER_SHAPE);
  }

  private static boolean larger(TensorInfo t) {
    return t != null && !isOne(t);
  }
}
