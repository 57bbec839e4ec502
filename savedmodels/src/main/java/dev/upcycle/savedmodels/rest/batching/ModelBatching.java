package dev.upcycle.savedmodels.rest.batching;

import static com.google.common.base.Preconditions.checkNotNull;

import com.fasterxml.jackson.databind.JsonNode;
import dev.upcycle.provenance.Provenance;
import dev.upcycle.savedmodels.SavedModelExporter;
import dev.upcycle.savedmodels.rest.ServedModel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;
import org.tensorflow.proto.TensorShapeProto;

/**
 * What batching needs to know of one loaded model: the most rows one run of its graph takes (the
 * batch our exporter built it for, from its provenance; unlimited for other SavedModels) and which
 * signatures have an output that is not batched along dimension 0 — declared so (rank 0, or a fixed
 * dimension 0), or found so when a merged run's output did not have the batch's rows. Requests for
 * such a signature run alone. Thread-safe.
 */
final class ModelBatching {

  private final long maxRows;
  private final Set<String> unbatched = ConcurrentHashMap.newKeySet();

  private ModelBatching(long maxRows, Set<String> declaredUnbatched) {
    this.maxRows = maxRows;
    unbatched.addAll(declaredUnbatched);
  }

  /**
   * Reads {@code model}'s signatures and provenance.
   *
   * @throws UncheckedIOException when its provenance file is there but cannot be read
   * @throws IllegalArgumentException when its provenance file cannot be parsed (naming the file)
   */
  static ModelBatching of(ServedModel model) {
    checkNotNull(model, "model");
    Set<String> declared = ConcurrentHashMap.newKeySet();
    for (Map.Entry<String, SignatureDef> s : model.signatures().entrySet()) {
      for (TensorInfo out : s.getValue().getOutputsMap().values()) {
        if (!batched(out.getTensorShape())) {
          declared.add(s.getKey());
        }
      }
    }
    return new ModelBatching(exportBatch(model).orElse(Long.MAX_VALUE), declared);
  }

  /** False for a declared shape of rank 0 or of a known dimension 0 (−1 is any size). */
  private static boolean batched(TensorShapeProto shape) {
    if (shape.getUnknownRank()) {
      return true;
    }
    return shape.getDimCount() > 0 && shape.getDim(0).getSize() < 0;
  }

  /** The batch our exporter recorded in the model's provenance, if it wrote the model. */
  private static Optional<Long> exportBatch(ServedModel model) {
    Optional<Provenance> record;
    try {
      record = Provenance.find(model.dir());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the provenance of " + model.dir(), e);
    }
    return record.filter(p -> p.kind() == Provenance.Kind.EXPORT).map(p -> p.options().path(
        SavedModelExporter.BATCH_OPTION)).filter(JsonNode::canConvertToLong).map(JsonNode::asLong)
        .filter(b -> b > 0);
  }

  /** The most rows one run takes ({@link Long#MAX_VALUE}: no limit known). */
  long maxRows() {
    return maxRows;
  }

  /** Whether every output of {@code signature} is, as far as known, batched along dimension 0. */
  boolean batchable(String signature) {
    return !unbatched.contains(signature);
  }

  /** Records that a run of {@code signature} gave an output that cannot be split per request. */
  void markUnbatched(String signature) {
    unbatched.add(signature);
  }
}
