package dev.upcycle.train.input;

import static com.google.common.base.Preconditions.checkArgument;

import dev.upcycle.model.arch.BatchShape;
import dev.upcycle.train.data.ExampleCodec;
import dev.upcycle.train.data.ShuffledShardedSource;
import dev.upcycle.train.step.Batch;
import dev.upcycle.train.text.Packer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * Turns {@code batch} serialized Examples into one {@link Batch} of static shape: token sequences
 * padded with 0 or truncated to the graph's lengths, decoder/LM inputs shifted right (first id 0),
 * image bytes scaled to [0, 1]; token ids and labels checked against {@code [0, idBound)} (0: unchecked),
 * the error naming the file, the record and the value.
 */
final class BatchAssembler {

  private final ExampleKind kind;
  private final BatchShape shape;
  private final int height;
  private final int width;
  private final int channels;
  private final int idBound;

  BatchAssembler(ExampleKind kind, BatchShape shape, int height, int width, int channels, int idBound) {
    this.kind = kind;
    this.shape = shape;
    this.height = height;
    this.width = width;
    this.channels = channels;
    this.idBound = idBound;
  }

  Batch assemble(List<ShuffledShardedSource.Record> records) {
    int b = shape.batch();
    checkArgument(records.size() == b, "%s records for a batch of %s", records.size(), b);
    Map<String, Tensor> features = new LinkedHashMap<>();
    switch (kind) {
      case T5 -> {
        int li = shape.inputLength();
        int lt = shape.targetLength();
        int[] inputs = new int[b * li];
        int[] targets = new int[b * lt];
        int[] decoder = new int[b * lt];
        for (int i = 0; i < b; i++) {
          ShuffledShardedSource.Record r = records.get(i);
          ExampleCodec.TokenExample ex = ExampleCodec.parseTokens(r.data(), r.file().toString(), r.index());
          checkIds(ex.inputs(), ExampleCodec.INPUTS, r);
          checkIds(ex.targets(), ExampleCodec.TARGETS, r);
          System.arraycopy(Packer.padOrTruncate(ex.inputs(), li, 0), 0, inputs, i * li, li);
          int[] t = Packer.padOrTruncate(ex.targets(), lt, 0);
          System.arraycopy(t, 0, targets, i * lt, lt);
          System.arraycopy(t, 0, decoder, i * lt + 1, lt - 1);
        }
        features.put(Batch.INPUTS, ints(inputs, b, li));
        features.put(Batch.DECODER_INPUTS, ints(decoder, b, lt));
        features.put(Batch.TARGETS, ints(targets, b, lt));
      }
      case LM -> {
        int l = shape.inputLength();
        int[] inputs = new int[b * l];
        int[] targets = new int[b * l];
        for (int i = 0; i < b; i++) {
          ShuffledShardedSource.Record r = records.get(i);
          ExampleCodec.TokenExample ex = ExampleCodec.parseTokens(r.data(), r.file().toString(), r.index());
          int[] seq = ex.targets().length > 0 ? ex.targets() : ex.inputs();
          checkIds(seq, ex.targets().length > 0 ? ExampleCodec.TARGETS : ExampleCodec.INPUTS, r);
          int[] t = Packer.padOrTruncate(seq, l, 0);
          System.arraycopy(t, 0, targets, i * l, l);
          System.arraycopy(t, 0, inputs, i * l + 1, l - 1);
        }
        features.put(Batch.INPUTS, ints(inputs, b, l));
        features.put(Batch.TARGETS, ints(targets, b, l));
      }
      case IMAGES -> {
        int n = height * width * channels;
        float[] pixels = new float[b * n];
        int[] labels = new int[b];
        for (int i = 0; i < b; i++) {
          ShuffledShardedSource.Record r = records.get(i);
          ExampleCodec.ImageExample ex = ExampleCodec.parseImage(r.data(), r.file().toString(), r.index());
          checkArgument(ex.height() == height && ex.width() == width && ex.channels() == channels,
              "%s record %s: image is %sx%sx%s, the model takes %sx%sx%s", r.file(), r.index(), ex.height(), ex.width(),
              ex.channels(), height, width, channels);
          byte[] p = ex.pixels();
          for (int j = 0; j < n; j++) {
            pixels[i * n + j] = (p[j] & 0xff) / 255f;
          }
          if (idBound > 0 && (ex.label() < 0 || ex.label() >= idBound)) {
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                "%s record %d: label %d is outside the model's %d classes [0, %d)", r.file(), r.index(), ex.label(),
                idBound, idBound));
          }
          labels[i] = Math.toIntExact(ex.label());
        }
        features.put(Batch.IMAGES, TFloat32.tensorOf(Shape.of(b, height, width, channels), DataBuffers.of(pixels, true, false)));
        features.put(Batch.LABELS, ints(labels, b));
      }
    }
    return new Batch(features);
  }

  /** Every id of {@code feature} in {@code [0, idBound)}, or an error naming the file, record and value. */
  private void checkIds(int[] ids, String feature, ShuffledShardedSource.Record r) {
    if (idBound == 0) {
      return;
    }
    for (int j = 0; j < ids.length; j++) {
      if (ids[j] < 0 || ids[j] >= idBound) {
        throw new IllegalArgumentException(String.format(Locale.ROOT,
            "%s record %d: token id %d at position %d of '%s' is outside the model's vocabulary of %d [0, %d)",
            r.file(), r.index(), ids[j], j, feature, idBound, idBound));
      }
    }
  }

  private static TInt32 ints(int[] values, long... shape) {
    return TInt32.tensorOf(Shape.of(shape), DataBuffers.of(values, true, false));
  }
}
