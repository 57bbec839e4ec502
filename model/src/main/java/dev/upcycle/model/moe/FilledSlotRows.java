package dev.upcycle.model.moe;

import dev.upcycle.model.layers.Shapes;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.nn.TopK;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TFloating;

/**
 * Rows for the filled slots of a routing only, expert-major, each expert's in slot order, so the
 * experts multiply every (token, expert) assignment and no padding:
 * <ul>
 *   <li>{@link #dropless}: dropless top-K, whose routing has capacity S (every token fits in every
 *       expert it chose) — exactly N·K filled slots, a static row count;
 *   <li>{@link #atRunTime}: capacity routing in an inference graph XLA does not compile — the
 *       filled slots, however many there are ({@code Where}); the empty ones would only have added
 *       rows with combine weight 0.
 * </ul>
 */
final class FilledSlotRows {

  private FilledSlotRows() {}

  /**
   * @param assignments N·K, the number of filled slots (every choice of every token)
   */
  static <T extends TFloating> MoeLayer.Rows dropless(Ops tf, Routing<T> routing, int groupSize, int experts,
      long assignments) {
    Operand<TInt32> filled = filledByExpert(tf, routing); // [E·G·S]
    long slots = Shapes.dim(filled, 0);
    // filled slots in ascending order: key slots − index on filled slots, 0 elsewhere, largest first
    int[] descending = new int[Math.toIntExact(slots)];
    for (int i = 0; i < descending.length; i++) {
      descending[i] = descending.length - i;
    }
    Operand<TInt32> key = tf.math.mul(filled, tf.constant(descending));
    Operand<TInt32> slot = tf.nn.topK(key, tf.constant(Math.toIntExact(assignments)), new TopK.Options[0])
        .indices(); // [N·K]
    return rows(tf, routing, groupSize, experts, filled, slot);
  }

  /** Capacity routing's filled slots, their number known only at run time: [R] rows, R ≤ E·G·C. */
  static <T extends TFloating> MoeLayer.Rows atRunTime(Ops tf, Routing<T> routing, int groupSize, int experts) {
    Operand<TInt32> filled = filledByExpert(tf, routing); // [E·G·C]
    Operand<TInt32> slot = tf.dtypes.cast(tf.reshape(tf.where(filled), tf.constant(new long[] {-1})),
        TInt32.class); // [R], ascending
    return rows(tf, routing, groupSize, experts, filled, slot);
  }

  /** 1 where a slot is filled, slots in [E, G, C] order flattened: [E·G·C]. */
  private static <T extends TFloating> Operand<TInt32> filledByExpert(Ops tf, Routing<T> routing) {
    long[] t = Shapes.of(routing.tokenIndex()); // [G, E, C]
    return tf.dtypes.cast(tf.reshape(tf.linalg.transpose(routing.slotFilled(), tf.constant(new int[] {1, 0, 2})),
        tf.constant(new long[] {t[0] * t[1] * t[2]})), TInt32.class);
  }

  private static <T extends TFloating> MoeLayer.Rows rows(Ops tf, Routing<T> routing, int groupSize, int experts,
      Operand<TInt32> filled, Operand<TInt32> slot) {
    long slots = Shapes.dim(filled, 0);
    Operand<TInt32> token = tf.gather(MoeLayer.slotTokensByExpert(tf, routing, groupSize), slot, tf.constant(0));
    Operand<TInt32> sizes = tf.sum(tf.reshape(filled, tf.constant(new long[] {experts, slots / experts})),
        tf.constant(1)); // [E]
    return new MoeLayer.Rows(slot, token, sizes, null);
  }
}
