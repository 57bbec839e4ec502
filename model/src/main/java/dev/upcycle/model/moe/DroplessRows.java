package dev.upcycle.model.moe;

import dev.upcycle.model.layers.Shapes;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.nn.TopK;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TFloating;

/**
 * The rows of dropless top-K routing: the routing has capacity S (every token fits in every expert
 * it chose), and only its filled slots become rows — exactly N·K of them, expert-major, each
 * expert's in slot order — so the experts multiply every (token, expert) assignment and no padding.
 */
final class DroplessRows {

  private DroplessRows() {}

  /**
   * @param assignments N·K, the number of filled slots (every choice of every token)
   */
  static <T extends TFloating> MoeLayer.Rows of(Ops tf, Routing<T> routing, int groupSize, int experts,
      long assignments) {
    long[] t = Shapes.of(routing.tokenIndex()); // [G, E, S]
    long slots = t[0] * t[1] * t[2];
    Operand<TInt32> filled = tf.dtypes.cast(tf.reshape(tf.linalg.transpose(routing.slotFilled(),
        tf.constant(new int[] {1, 0, 2})), tf.constant(new long[] {slots})), TInt32.class); // [E·G·S]
    // filled slots in ascending order: key slots − index on filled slots, 0 elsewhere, largest first
    int[] descending = new int[Math.toIntExact(slots)];
    for (int i = 0; i < descending.length; i++) {
      descending[i] = descending.length - i;
    }
    Operand<TInt32> key = tf.math.mul(filled, tf.constant(descending));
    Operand<TInt32> slot = tf.nn.topK(key, tf.constant(Math.toIntExact(assignments)), new TopK.Options[0])
        .indices(); // [N·K]
    Operand<TInt32> token = tf.gather(MoeLayer.slotTokensByExpert(tf, routing, groupSize), slot, tf.constant(0));
    Operand<TInt32> sizes = tf.sum(tf.reshape(filled, tf.constant(new long[] {experts, slots / experts})),
        tf.constant(1)); // [E]
    return new MoeLayer.Rows(slot, token, sizes, null);
  }
}
