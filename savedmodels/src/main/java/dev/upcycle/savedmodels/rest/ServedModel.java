package dev.upcycle.savedmodels.rest;

import dev.upcycle.savedmodels.SavedModelFile;
import dev.upcycle.savedmodels.ServingVersions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.exceptions.TFInvalidArgumentException;
import org.tensorflow.exceptions.TFUnimplementedException;
import org.tensorflow.exceptions.TensorFlowException;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;

/**
 * One loaded SavedModel version as TF Serving serves it: TensorFlow's loader restores the graph and
 * variables of the {@code serve} MetaGraph, and a signature runs as TF Serving's {@code RunPredict}
 * runs it — its input tensors fed by their graph names, every output fetched, in one session run —
 * so TensorFlow alone decides what shapes the graph accepts. Thread-safe: TensorFlow sessions run
 * concurrently. Closing it releases the session.
 */
public final class ServedModel implements AutoCloseable {

  private final Path dir;
  private final SavedModelBundle bundle;
  private final SortedMap<String, SignatureDef> signatures;
  private final SignatureFreeView view;

  private ServedModel(Path dir, SavedModelBundle bundle, SortedMap<String, SignatureDef> signatures,
      SignatureFreeView view) {
    this.dir = dir;
    this.bundle = bundle;
    this.signatures = Collections.unmodifiableSortedMap(signatures);
    this.view = view;
  }

  /**
   * Loads version folder {@code dir} (see {@link ServingVersions#resolve} for a base folder). A model
   * TensorFlow Java refuses for a signature that does not match its graph (TensorFlow's loader,
   * which TF Serving uses, does not check) is loaded through a {@link SignatureFreeView}; such a
   * signature then fails when it is called, with TensorFlow's error, as in TF Serving.
   *
   * @throws IOException when {@code dir} holds no SavedModel with a {@code serve} MetaGraph
   * @throws IllegalStateException when TensorFlow cannot load it
   */
  public static ServedModel load(Path dir) throws IOException {
    SavedModel proto = SavedModelFile.read(dir);
    MetaGraphDef serve = SavedModelFile.serveGraph(proto, dir);
    SortedMap<String, SignatureDef> signatures = new TreeMap<>(serve.getSignatureDefMap());
    try {
      return new ServedModel(dir, ServingVersions.load(dir), signatures, null);
    } catch (IllegalArgumentException refused) { // TF Java's check of a signature against the graph
      if (refused instanceof TFInvalidArgumentException) {
        throw refused; // TensorFlow's loader failed, not TF Java's check
      }
      SignatureFreeView view = SignatureFreeView.of(dir, proto);
      try {
        return new ServedModel(dir, ServingVersions.load(view.dir(), dir), signatures, view);
      } catch (RuntimeException e) {
        e.addSuppressed(refused);
        view.close();
        throw e;
      }
    }
  }

  /** The version folder. */
  public Path dir() {
    return dir;
  }

  /** The signatures of the {@code serve} MetaGraph by name, as {@code saved_model.pb} declares them. */
  public SortedMap<String, SignatureDef> signatures() {
    return signatures;
  }

  /**
   * Why the model was loaded through a view without signatures, when it was (see {@link #load}).
   */
  public Optional<String> loadNote() {
    return view == null ? Optional.empty() : Optional.of("TensorFlow Java refuses a signature of " + dir
        + " that does not match its graph; the model is loaded without TF Java's signature check, as TF"
        + " Serving loads it, and such a signature fails when it is called");
  }

  /**
   * The input map of signature {@code name} ({@code ""}: {@code serving_default}), TF Serving's
   * {@code GetInfoMap}.
   *
   * @throws RestError INVALID_ARGUMENT {@code Serving signature name: "x" not found in signature def}
   *     (followed by the names there are)
   */
  public Map<String, TensorInfo> inputMap(String name) {
    String key = name.isEmpty() ? RestPredict.DEFAULT_SIGNATURE : name;
    SignatureDef def = signatures.get(key);
    if (def == null) {
      throw RestError.invalid("Serving signature name: \"" + key + "\" not found in signature def (the model has: "
          + String.join(", ", signatures.keySet()) + ")");
    }
    return def.getInputsMap();
  }

  /**
   * Runs signature {@code name} on {@code inputs} (one tensor per input key) and returns every output
   * by key.
   *
   * @throws RestError with TensorFlow's code and message when TensorFlow refuses the run (a shape
   *     the graph cannot take, a failed assertion, a dtype the placeholder does not have, ...)
   */
  public SortedMap<String, HostTensor> run(String name, SortedMap<String, HostTensor> inputs) {
    SignatureDef def = signatures.get(name);
    if (def == null) {
      throw new RestError(TfCode.FAILED_PRECONDITION, "Serving signature key \"" + name + "\" not found.");
    }
    checkInputs(def, inputs);
    List<String> aliases = new ArrayList<>(new TreeSet<>(def.getOutputsMap().keySet()));
    List<Tensor> feeds = new ArrayList<>();
    try {
      Session.Runner runner = bundle.session().runner();
      for (Map.Entry<String, HostTensor> in : inputs.entrySet()) {
        Tensor t = in.getValue().toTensor(in.getKey());
        feeds.add(t);
        runner.feed(def.getInputsOrThrow(in.getKey()).getName(), t);
      }
      for (String alias : aliases) {
        runner.fetch(def.getOutputsOrThrow(alias).getName());
      }
      try (Result result = runner.run()) {
        SortedMap<String, HostTensor> outputs = new TreeMap<>();
        for (int i = 0; i < aliases.size(); i++) {
          outputs.put(aliases.get(i), HostTensor.of(result.get(i)));
        }
        return outputs;
      }
    } catch (TensorFlowException | TFInvalidArgumentException | TFUnimplementedException e) {
      throw new RestError(TfCode.of(e), String.valueOf(e.getMessage()), e);
    } catch (IllegalArgumentException e) { // TF Java: a graph name the signature gives is not in the graph
      throw new RestError(TfCode.INVALID_ARGUMENT, String.valueOf(e.getMessage()), e);
    } finally {
      feeds.forEach(Tensor::close);
    }
  }

  /** TF Serving's {@code VerifyRequestInputsSize}, and every input the run feeds must be there. */
  private static void checkInputs(SignatureDef def, SortedMap<String, HostTensor> inputs) {
    TreeSet<String> expected = new TreeSet<>(def.getInputsMap().keySet());
    if (!inputs.keySet().equals(expected)) {
      TreeSet<String> extra = new TreeSet<>(inputs.keySet());
      extra.removeAll(expected);
      TreeSet<String> missing = new TreeSet<>(expected);
      missing.removeAll(inputs.keySet());
      throw RestError.invalid("input size does not match signature: " + inputs.size() + "!=" + expected.size()
          + " len({" + String.join(",", inputs.keySet()) + "}) != len({" + String.join(",", expected)
          + "}). Sent extra: {" + String.join(",", extra) + "}. Missing but required: {" + String.join(",", missing)
          + "}.");
    }
  }

  @Override
  public void close() {
    try {
      bundle.close();
    } finally {
      if (view != null) {
        try {
          view.close();
        } catch (IOException e) {
          throw new UncheckedIOException("cannot remove the view " + view.dir(), e);
        }
      }
    }
  }

  /** For messages: the version folder. */
  @Override
  public String toString() {
    return "ServedModel[" + dir + "]";
  }
}
