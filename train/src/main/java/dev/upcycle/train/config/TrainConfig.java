package dev.upcycle.train.config;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.arch.BatchShape;
import dev.upcycle.model.config.ConfigJson;
import dev.upcycle.model.config.ModelSection;
import dev.upcycle.model.config.MoeSection;
import dev.upcycle.model.config.SpecConfig;
import dev.upcycle.model.graph.ComputeDevice;
import dev.upcycle.model.graph.Precision;
import dev.upcycle.model.graph.XlaMode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Everything a training job needs, as JSON with snake_case keys over documented defaults
 * ({@code docs/train-config.md}). Immutable and validated on construction; {@link #toJson} writes
 * the resolved form saved with every checkpoint.
 *
 * @param model the dense architecture (preset or explicit)
 * @param moe MoE options (num_experts 0 = dense)
 * @param batchSize examples per step
 * @param inputLength encoder / LM length in tokens (ignored by ViT)
 * @param targetLength decoder length (T5)
 * @param trainSteps the step number at which training stops (absolute, like T5X's TRAIN_STEPS: a run
 *     initialised from a checkpoint at step s trains {@code trainSteps - s} more steps)
 * @param optimizer optimizer and its settings
 * @param schedule learning-rate schedule
 * @param clipNorm global gradient-norm clipping threshold; 0 = off
 * @param checkpointEvery write a checkpoint every this many steps (and always at the end)
 * @param keepCheckpoints keep the newest this many checkpoints
 * @param seed seed of fresh weights, data order and dropout
 * @param xla XLA mode: {@code off}, {@code auto} (auto-clustering) or {@code module} (the whole step
 *     as one XLA module); see {@link XlaMode}. The booleans of older configs read as auto / off.
 * @param zLoss logit z-loss factor
 * @param labelSmoothing label smoothing of the cross-entropy
 * @param evalEvery evaluate every this many steps when an eval source is given; 0 = never
 * @param evalBatches batches per evaluation
 * @param logEvery progress line every this many steps
 * @param dtype compute and parameter dtype: float32 or float64
 * @param precision {@code float32}, or {@code bfloat16}: matmuls and activations in bfloat16 over
 *     {@code dtype = float32} master weights ({@link Precision})
 * @param device where the step computes: {@code cpu}, {@code gpu} or {@code auto} ({@link ComputeDevice})
 * @param outputDir run folder: checkpoints/, metrics.jsonl, events/
 */
public record TrainConfig(
    ModelSection model,
    MoeSection moe,
    int batchSize,
    int inputLength,
    int targetLength,
    long trainSteps,
    OptimizerSection optimizer,
    ScheduleSection schedule,
    double clipNorm,
    int checkpointEvery,
    int keepCheckpoints,
    long seed,
    String xla,
    double zLoss,
    double labelSmoothing,
    int evalEvery,
    int evalBatches,
    int logEvery,
    String dtype,
    String precision,
    String device,
    String outputDir) {

  private static final ObjectMapper JSON = ConfigJson.MAPPER;

  public TrainConfig {
    checkNotNull(model, "model");
    checkNotNull(moe, "moe");
    checkNotNull(optimizer, "optimizer");
    checkNotNull(schedule, "schedule");
    checkArgument(batchSize >= 1, "batch_size must be >= 1, got %s", batchSize);
    checkArgument(inputLength >= 1, "input_length must be >= 1, got %s", inputLength);
    checkArgument(targetLength >= 1, "target_length must be >= 1, got %s", targetLength);
    checkArgument(trainSteps >= 1, "train_steps must be >= 1, got %s", trainSteps);
    checkArgument(clipNorm >= 0, "clip_norm must be >= 0 (0 = off), got %s", clipNorm);
    checkArgument(checkpointEvery >= 1, "checkpoint_every must be >= 1, got %s", checkpointEvery);
    checkArgument(keepCheckpoints >= 1, "keep_checkpoints must be >= 1, got %s", keepCheckpoints);
    checkArgument(zLoss >= 0, "z_loss must be >= 0, got %s", zLoss);
    checkArgument(labelSmoothing >= 0 && labelSmoothing < 1, "label_smoothing must be in [0, 1), got %s",
        labelSmoothing);
    checkArgument(evalEvery >= 0, "eval_every must be >= 0 (0 = never), got %s", evalEvery);
    checkArgument(evalBatches >= 1, "eval_batches must be >= 1, got %s", evalBatches);
    checkArgument(logEvery >= 1, "log_every must be >= 1, got %s", logEvery);
    checkArgument("float32".equals(dtype) || "float64".equals(dtype), "dtype must be float32 or float64, got '%s'",
        dtype);
    xla = XlaMode.parse(checkNotNull(xla, "xla")).configName();
    precision = Precision.parse(checkNotNull(precision, "precision")).configName();
    device = ComputeDevice.parse(checkNotNull(device, "device")).configName();
    checkArgument(Precision.parse(precision) == Precision.FLOAT32 || "float32".equals(dtype),
        "precision bfloat16 needs dtype float32 (the master weights), got dtype '%s'", dtype);
    checkArgument(outputDir != null && !outputDir.isBlank(), "output_dir must be given");
    // the derived objects validate the rest (layouts against layer counts, routers, schedule)
    schedule.schedule(trainSteps);
    spec(model, moe);
    if (moe.numExperts() > 0) {
      dev.upcycle.model.moe.MoeLayer.checkXla(moe.toMoeConfig(), XlaMode.parse(xla) != XlaMode.OFF, "xla");
    }
  }

  /** Every default (documented in docs/train-config.md). */
  public static TrainConfig defaults() {
    return new TrainConfig(ModelSection.preset("t5-tiny"), MoeSection.defaults(), 8, 128, 32, 10_000,
        OptimizerSection.defaults(), ScheduleSection.defaults(), 0.0, 1000, 3, 0, XlaMode.DEFAULT.configName(), 1e-4,
        0.0, 0, 10, 10, "float32", Precision.FLOAT32.configName(), ComputeDevice.AUTO.configName(), "run");
  }

  /** Parses JSON over the defaults; unknown keys and invalid values are errors naming the key. */
  public static TrainConfig fromJson(String json) {
    try {
      JsonNode user = JSON.readTree(json);
      checkArgument(user != null && user.isObject(), "a train config must be a JSON object");
      ObjectNode tree = defaultsTree();
      merge(tree, (ObjectNode) user);
      return fromTree(tree);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("train config: " + e.getOriginalMessage(), e);
    }
  }

  /** Reads a JSON file; errors name the file. */
  public static TrainConfig load(Path file) throws IOException {
    String text = Files.readString(file, StandardCharsets.UTF_8);
    try {
      return fromJson(text);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
    }
  }

  /** The resolved config as JSON (what is saved with each checkpoint). */
  public String toJson() {
    try {
      return JSON.writeValueAsString(this);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialise the train config", e);
    }
  }

  /**
   * This config with values replaced by dotted snake_case keys, e.g. {@code optimizer.name=adamw},
   * {@code schedule.base=0.01}, {@code moe.num_experts=8}, {@code model.preset=t5-small}. Values
   * are parsed by the type of the key they replace. Unknown keys are errors listing the valid ones.
   */
  public TrainConfig withOverrides(Map<String, String> overrides) {
    ObjectNode tree = JSON.valueToTree(this);
    for (Map.Entry<String, String> e : overrides.entrySet()) {
      set(tree, e.getKey(), e.getValue());
    }
    try {
      return fromTree(tree);
    } catch (JsonProcessingException ex) {
      throw new IllegalArgumentException("train config overrides " + overrides + ": " + ex.getOriginalMessage(), ex);
    }
  }

  public ModelSpec modelSpec() {
    return spec(model, moe);
  }

  /** {@link #xla} as a value. */
  public XlaMode xlaMode() {
    return XlaMode.parse(xla);
  }

  /** {@link #device} as a value (not yet resolved against what TF sees). */
  public ComputeDevice computeDevice() {
    return ComputeDevice.parse(device);
  }

  /** {@link #precision} as a value. */
  public Precision precisionPolicy() {
    return Precision.parse(precision);
  }

  public BatchShape batchShape() {
    return new BatchShape(batchSize, inputLength, targetLength);
  }

  private static ModelSpec spec(ModelSection model, MoeSection moe) {
    return SpecConfig.spec(model, moe);
  }

  /**
   * A job's config in layers, each over the one before: {@code base} (the defaults, or the
   * recorded config of the run a checkpoint came from), its model and MoE sections replaced by
   * {@code spec} (the checkpoint's), then a user's config file, then {@code --set} overrides.
   * Errors name the key, as {@link #fromJson} and {@link #withOverrides} do.
   */
  public static TrainConfig layered(TrainConfig base, SpecConfig spec, Optional<JsonNode> userFile,
      Map<String, String> overrides) {
    checkNotNull(base, "base");
    checkNotNull(spec, "spec");
    checkNotNull(userFile, "userFile");
    checkNotNull(overrides, "overrides");
    ObjectNode tree = JSON.valueToTree(base.withSpec(spec));
    if (userFile.isPresent()) {
      checkArgument(userFile.get().isObject(), "a train config must be a JSON object");
      merge(tree, (ObjectNode) userFile.get());
    }
    for (Map.Entry<String, String> e : overrides.entrySet()) {
      set(tree, e.getKey(), e.getValue());
    }
    try {
      return fromTree(tree);
    } catch (JsonProcessingException ex) {
      throw new IllegalArgumentException("train config: " + ex.getOriginalMessage(), ex);
    }
  }

  /** The model and MoE sections as one value (what provenance records). */
  public SpecConfig specConfig() {
    return new SpecConfig(model, moe);
  }

  /** This config with the model and MoE sections replaced (e.g. by a checkpoint's). */
  public TrainConfig withSpec(SpecConfig spec) {
    return new TrainConfig(spec.model(), spec.moe(), batchSize, inputLength, targetLength, trainSteps, optimizer,
        schedule, clipNorm, checkpointEvery, keepCheckpoints, seed, xla, zLoss, labelSmoothing, evalEvery,
        evalBatches, logEvery, dtype, precision, device, outputDir);
  }

  private static ObjectNode defaultsTree() {
    return JSON.valueToTree(defaults());
  }

  private static TrainConfig fromTree(ObjectNode tree) throws JsonProcessingException {
    try {
      return JSON.treeToValue(tree, TrainConfig.class);
    } catch (com.fasterxml.jackson.databind.exc.ValueInstantiationException e) {
      Throwable c = e.getCause();
      throw new IllegalArgumentException("train config: " + (c != null ? c.getMessage() : e.getOriginalMessage()), e);
    }
  }

  /** Deep merge; a user {@code model} object replaces the default one (it names one architecture). */
  private static void merge(ObjectNode base, ObjectNode user) {
    Iterator<Map.Entry<String, JsonNode>> it = user.fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> f = it.next();
      JsonNode old = base.get(f.getKey());
      if (old != null && old.isObject() && f.getValue().isObject() && !f.getKey().equals("model")) {
        merge((ObjectNode) old, (ObjectNode) f.getValue());
      } else {
        base.set(f.getKey(), f.getValue());
      }
    }
  }

  private static void set(ObjectNode tree, String key, String value) {
    String[] parts = key.split("\\.");
    ObjectNode node = tree;
    for (int i = 0; i < parts.length - 1; i++) {
      JsonNode next = node.get(parts[i]);
      if (next == null || !next.isObject()) {
        if (next == null && i == 1 && parts[0].equals("model")) {
          next = node.putObject(parts[i]);
        } else {
          throw new IllegalArgumentException("unknown config key '" + key + "': '" + parts[i] + "' is not a section;"
              + " known here: " + names(node));
        }
      }
      node = (ObjectNode) next;
    }
    String leaf = parts[parts.length - 1];
    if (parts.length == 2 && parts[0].equals("model")) {
      // model.preset / model.t5 / model.vit / model.lm name the architecture: they replace the others
      checkArgument(List.of("preset", "t5", "vit", "lm").contains(leaf),
          "unknown config key '%s'; known: model.preset, model.t5, model.vit, model.lm", key);
      node.removeAll();
      node.set(leaf, leaf.equals("preset") ? JsonNodeFactory.instance.textNode(value) : parseLoose(value));
      return;
    }
    JsonNode old = node.get(leaf);
    if (old == null && !(parts.length >= 2 && parts[0].equals("model"))) {
      throw new IllegalArgumentException("unknown config key '" + key + "'; known here: " + names(node));
    }
    JsonNodeFactory f = JsonNodeFactory.instance;
    try {
      if (old == null || old.isNull()) {
        node.set(leaf, parseLoose(value));
      } else if (old.isBoolean()) {
        checkArgument(value.equals("true") || value.equals("false"), "config key %s takes true or false, got '%s'", key,
            value);
        node.put(leaf, Boolean.parseBoolean(value));
      } else if (old.isIntegralNumber()) {
        node.put(leaf, Long.parseLong(value.trim()));
      } else if (old.isNumber()) {
        node.put(leaf, Double.parseDouble(value.trim()));
      } else if (old.isTextual()) {
        node.set(leaf, f.textNode(value));
      } else {
        node.set(leaf, JSON.readTree(value));
      }
    } catch (NumberFormatException | JsonProcessingException e) {
      throw new IllegalArgumentException("config key " + key + ": '" + value + "' is not a valid " + old.getNodeType()
          .toString().toLowerCase(java.util.Locale.ROOT));
    }
  }

  private static JsonNode parseLoose(String value) {
    try {
      return JSON.readTree(value);
    } catch (JsonProcessingException e) {
      return JsonNodeFactory.instance.textNode(value);
    }
  }

  private static List<String> names(ObjectNode node) {
    List<String> out = new ArrayList<>();
    node.fieldNames().forEachRemaining(out::add);
    return out;
  }
}
