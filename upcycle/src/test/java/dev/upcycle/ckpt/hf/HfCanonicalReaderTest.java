package dev.upcycle.ckpt.hf;

import static dev.upcycle.ckpt.hf.HfTestTensors.convWeight;
import static dev.upcycle.ckpt.hf.HfTestTensors.transposed;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.ckpt.CheckpointFormatException;
import dev.upcycle.ckpt.DType;
import dev.upcycle.ckpt.InMemoryCheckpoint;
import dev.upcycle.ckpt.RawTensor;
import dev.upcycle.ckpt.TensorInfo;
import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.Presets;
import dev.upcycle.model.T5Config;
import dev.upcycle.model.VitConfig;
import dev.upcycle.model.arch.BatchShape;
import dev.upcycle.model.arch.ModelGraph;
import dev.upcycle.plan.SessionUpcycle;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.tensorflow.types.TFloat32;

/**
 * A dense t5-tiny and a vit-mnist (CLS pooling) built by {@link ModelGraph}, their variables
 * written under Hugging Face names (PyTorch and Flax) with the test's own transposes, read back
 * through {@link HfCanonicalReader}: every canonical tensor equals the graph's, bit for bit, under
 * the graph's name and shape; damaged name sets are refused, naming the tensors.
 */
public class HfCanonicalReaderTest {

  private static final T5Config T5 = (T5Config) Presets.get("t5-tiny");
  private static final VitConfig VIT = ((VitConfig) Presets.get("vit-mnist")).withPooling(VitConfig.Pooling.CLS);
  private static final String[][] QKVO = {{"q", "query"}, {"k", "key"}, {"v", "value"}, {"o", "out"}};
  private static final String[] MLP = {"wi_0", "wi_1", "wo"};

  private static Map<String, RawTensor> t5;
  private static Map<String, RawTensor> vit;

  @BeforeAll
  static void buildGraphs() {
    t5 = variables(T5, new BatchShape(2, 8, 6));
    vit = variables(VIT, new BatchShape(2, 1, 1));
  }

  private static Map<String, RawTensor> variables(dev.upcycle.model.ArchitectureConfig arch, BatchShape shape) {
    try (ModelGraph<TFloat32> g = ModelGraph.build(ModelSpec.dense(arch), shape, TFloat32.class, false, 11, false,
        false).initialize()) {
      Map<String, RawTensor> out = new TreeMap<>();
      InMemoryCheckpoint ckpt = SessionUpcycle.checkpointOf("dense", g.session, g.store);
      for (TensorInfo t : ckpt.tensors()) {
        try {
          out.put(t.name(), ckpt.read(t.name()));
        } catch (IOException e) {
          throw new AssertionError(e);
        }
      }
      return out;
    }
  }

  private static HfConfig config(dev.upcycle.model.ArchitectureConfig arch) {
    return new HfConfig(Path.of("config.json"), arch instanceof T5Config ? HfT5Names.NAMING : HfVitNames.NAMING,
        arch, List.of());
  }

  // ---- the test's own HF layouts, from the published module names ----

  /** t5-tiny under PyTorch state-dict names, linear weights [out, in], as T5ForConditionalGeneration saves it. */
  public static Map<String, RawTensor> torchT5(Map<String, RawTensor> t5) {
    Map<String, RawTensor> hf = new LinkedHashMap<>();
    Put put = (n, t) -> hf.put(n, t.withName(n));
    put.put("shared.weight", t5.get("token_embedder/embedding"));
    put.put("encoder.embed_tokens.weight", t5.get("token_embedder/embedding"));
    put.put("decoder.embed_tokens.weight", t5.get("token_embedder/embedding"));
    hf.put("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight",
        transposed("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight",
            t5.get("encoder/relpos_bias/rel_embedding")));
    hf.put("decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight",
        transposed("decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight",
            t5.get("decoder/relpos_bias/rel_embedding")));
    for (int i = 0; i < T5.encoderLayers(); i++) {
      String e = "encoder.block." + i + ".layer.";
      String c = "encoder/layers_" + i + "/";
      for (String[] a : QKVO) {
        linear(hf, e + "0.SelfAttention." + a[0] + ".weight", t5.get(c + "attention/" + a[1] + "/kernel"));
      }
      put.put(e + "0.layer_norm.weight", t5.get(c + "pre_attention_layer_norm/scale"));
      for (String w : MLP) {
        linear(hf, e + "1.DenseReluDense." + w + ".weight", t5.get(c + "mlp/" + w + "/kernel"));
      }
      put.put(e + "1.layer_norm.weight", t5.get(c + "pre_mlp_layer_norm/scale"));
    }
    put.put("encoder.final_layer_norm.weight", t5.get("encoder/encoder_norm/scale"));
    for (int i = 0; i < T5.decoderLayers(); i++) {
      String d = "decoder.block." + i + ".layer.";
      String c = "decoder/layers_" + i + "/";
      for (String[] a : QKVO) {
        linear(hf, d + "0.SelfAttention." + a[0] + ".weight", t5.get(c + "self_attention/" + a[1] + "/kernel"));
        linear(hf, d + "1.EncDecAttention." + a[0] + ".weight",
            t5.get(c + "encoder_decoder_attention/" + a[1] + "/kernel"));
      }
      put.put(d + "0.layer_norm.weight", t5.get(c + "pre_self_attention_layer_norm/scale"));
      put.put(d + "1.layer_norm.weight", t5.get(c + "pre_cross_attention_layer_norm/scale"));
      for (String w : MLP) {
        linear(hf, d + "2.DenseReluDense." + w + ".weight", t5.get(c + "mlp/" + w + "/kernel"));
      }
      put.put(d + "2.layer_norm.weight", t5.get(c + "pre_mlp_layer_norm/scale"));
    }
    put.put("decoder.final_layer_norm.weight", t5.get("decoder/decoder_norm/scale"));
    linear(hf, "lm_head.weight", t5.get("decoder/logits_dense/kernel"));
    return hf;
  }

  /** t5-tiny under Flax parameter paths: kernels [in, out] as they are, the relative bias an Embed [buckets, heads]. */
  public static Map<String, RawTensor> flaxT5(Map<String, RawTensor> t5) {
    Map<String, RawTensor> hf = new LinkedHashMap<>();
    Put put = (n, t) -> hf.put(n, t.withName(n));
    put.put("shared/embedding", t5.get("token_embedder/embedding"));
    for (String stack : List.of("encoder", "decoder")) {
      String n = stack + "/block/0/layer/0/SelfAttention/relative_attention_bias/embedding";
      hf.put(n, transposed(n, t5.get(stack + "/relpos_bias/rel_embedding")));
    }
    for (int i = 0; i < T5.encoderLayers(); i++) {
      String e = "encoder/block/" + i + "/layer/";
      String c = "encoder/layers_" + i + "/";
      for (String[] a : QKVO) {
        put.put(e + "0/SelfAttention/" + a[0] + "/kernel", t5.get(c + "attention/" + a[1] + "/kernel"));
      }
      put.put(e + "0/layer_norm/weight", t5.get(c + "pre_attention_layer_norm/scale"));
      for (String w : MLP) {
        put.put(e + "1/DenseReluDense/" + w + "/kernel", t5.get(c + "mlp/" + w + "/kernel"));
      }
      put.put(e + "1/layer_norm/weight", t5.get(c + "pre_mlp_layer_norm/scale"));
    }
    put.put("encoder/final_layer_norm/weight", t5.get("encoder/encoder_norm/scale"));
    for (int i = 0; i < T5.decoderLayers(); i++) {
      String d = "decoder/block/" + i + "/layer/";
      String c = "decoder/layers_" + i + "/";
      for (String[] a : QKVO) {
        put.put(d + "0/SelfAttention/" + a[0] + "/kernel", t5.get(c + "self_attention/" + a[1] + "/kernel"));
        put.put(d + "1/EncDecAttention/" + a[0] + "/kernel", t5.get(c + "encoder_decoder_attention/" + a[1] + "/kernel"));
      }
      put.put(d + "0/layer_norm/weight", t5.get(c + "pre_self_attention_layer_norm/scale"));
      put.put(d + "1/layer_norm/weight", t5.get(c + "pre_cross_attention_layer_norm/scale"));
      for (String w : MLP) {
        put.put(d + "2/DenseReluDense/" + w + "/kernel", t5.get(c + "mlp/" + w + "/kernel"));
      }
      put.put(d + "2/layer_norm/weight", t5.get(c + "pre_mlp_layer_norm/scale"));
    }
    put.put("decoder/final_layer_norm/weight", t5.get("decoder/decoder_norm/scale"));
    put.put("lm_head/kernel", t5.get("decoder/logits_dense/kernel"));
    return hf;
  }

  /** vit-mnist under ViTForImageClassification state-dict names. */
  public static Map<String, RawTensor> torchVit(Map<String, RawTensor> vit) {
    Map<String, RawTensor> hf = new LinkedHashMap<>();
    Put put = (n, t) -> hf.put(n, t.withName(n));
    put.put("vit.embeddings.cls_token", vit.get("cls"));
    put.put("vit.embeddings.position_embeddings", vit.get("pos_embedding"));
    hf.put("vit.embeddings.patch_embeddings.projection.weight",
        convWeight("vit.embeddings.patch_embeddings.projection.weight", vit.get("embedding/kernel")));
    put.put("vit.embeddings.patch_embeddings.projection.bias", vit.get("embedding/bias"));
    String[][] dense = {{"attention.attention.query", "attention/query"}, {"attention.attention.key", "attention/key"},
        {"attention.attention.value", "attention/value"}, {"attention.output.dense", "attention/out"},
        {"intermediate.dense", "mlp/wi"}, {"output.dense", "mlp/wo"}};
    for (int i = 0; i < VIT.layers(); i++) {
      String l = "vit.encoder.layer." + i + ".";
      String c = "encoder/layers_" + i + "/";
      put.put(l + "layernorm_before.weight", vit.get(c + "pre_attention_layer_norm/scale"));
      put.put(l + "layernorm_before.bias", vit.get(c + "pre_attention_layer_norm/bias"));
      put.put(l + "layernorm_after.weight", vit.get(c + "pre_mlp_layer_norm/scale"));
      put.put(l + "layernorm_after.bias", vit.get(c + "pre_mlp_layer_norm/bias"));
      for (String[] m : dense) {
        linear(hf, l + m[0] + ".weight", vit.get(c + m[1] + "/kernel"));
        put.put(l + m[0] + ".bias", vit.get(c + m[1] + "/bias"));
      }
    }
    put.put("vit.layernorm.weight", vit.get("encoder/encoder_norm/scale"));
    put.put("vit.layernorm.bias", vit.get("encoder/encoder_norm/bias"));
    linear(hf, "classifier.weight", vit.get("head/kernel"));
    put.put("classifier.bias", vit.get("head/bias"));
    return hf;
  }

  /** vit-mnist under FlaxViTForImageClassification parameter paths (Conv kernel HWIO, Dense [in, out], LayerNorm scale). */
  public static Map<String, RawTensor> flaxVit(Map<String, RawTensor> vit) {
    Map<String, RawTensor> hf = new LinkedHashMap<>();
    Put put = (n, t) -> hf.put(n, t.withName(n));
    put.put("vit/embeddings/cls_token", vit.get("cls"));
    put.put("vit/embeddings/position_embeddings", vit.get("pos_embedding"));
    put.put("vit/embeddings/patch_embeddings/projection/kernel", vit.get("embedding/kernel"));
    put.put("vit/embeddings/patch_embeddings/projection/bias", vit.get("embedding/bias"));
    String[][] dense = {{"attention/attention/query", "attention/query"}, {"attention/attention/key", "attention/key"},
        {"attention/attention/value", "attention/value"}, {"attention/output/dense", "attention/out"},
        {"intermediate/dense", "mlp/wi"}, {"output/dense", "mlp/wo"}};
    for (int i = 0; i < VIT.layers(); i++) {
      String l = "vit/encoder/layer/" + i + "/";
      String c = "encoder/layers_" + i + "/";
      put.put(l + "layernorm_before/scale", vit.get(c + "pre_attention_layer_norm/scale"));
      put.put(l + "layernorm_before/bias", vit.get(c + "pre_attention_layer_norm/bias"));
      put.put(l + "layernorm_after/scale", vit.get(c + "pre_mlp_layer_norm/scale"));
      put.put(l + "layernorm_after/bias", vit.get(c + "pre_mlp_layer_norm/bias"));
      for (String[] m : dense) {
        put.put(l + m[0] + "/kernel", vit.get(c + m[1] + "/kernel"));
        put.put(l + m[0] + "/bias", vit.get(c + m[1] + "/bias"));
      }
    }
    put.put("vit/layernorm/scale", vit.get("encoder/encoder_norm/scale"));
    put.put("vit/layernorm/bias", vit.get("encoder/encoder_norm/bias"));
    put.put("classifier/kernel", vit.get("head/kernel"));
    put.put("classifier/bias", vit.get("head/bias"));
    return hf;
  }

  private interface Put {
    void put(String name, RawTensor t);
  }

  private static void linear(Map<String, RawTensor> hf, String name, RawTensor kernel) {
    hf.put(name, transposed(name, kernel));
  }

  // ---- round trips ----

  @Test
  void torchT5ReadsAsTheGraphsVariables() throws IOException {
    HfCanonicalReader r = roundTrip(T5, torchT5(t5), t5, HfDialect.TORCH);
    assertEquals(List.of("decoder.embed_tokens.weight", "encoder.embed_tokens.weight"), r.dropped());
    assertEquals(HfTensorLayout.TRANSPOSE_2D, r.layout("decoder/logits_dense/kernel"));
    assertEquals("lm_head.weight", r.storedName("decoder/logits_dense/kernel"));
    assertEquals("hf-t5", r.naming());
  }

  @Test
  void flaxT5ReadsAsTheGraphsVariables() throws IOException {
    HfCanonicalReader r = roundTrip(T5, flaxT5(t5), t5, HfDialect.FLAX);
    assertEquals(HfTensorLayout.SAME, r.layout("decoder/logits_dense/kernel"));
    assertEquals(HfTensorLayout.TRANSPOSE_2D, r.layout("encoder/relpos_bias/rel_embedding"));
  }

  @Test
  void torchVitReadsAsTheGraphsVariables() throws IOException {
    HfCanonicalReader r = roundTrip(VIT, torchVit(vit), vit, HfDialect.TORCH);
    assertEquals(HfTensorLayout.OIHW_TO_HWIO, r.layout("embedding/kernel"));
    assertEquals("hf-vit", r.naming());
  }

  @Test
  void flaxVitReadsAsTheGraphsVariables() throws IOException {
    roundTrip(VIT, flaxVit(vit), vit, HfDialect.FLAX);
  }

  private static HfCanonicalReader roundTrip(dev.upcycle.model.ArchitectureConfig arch, Map<String, RawTensor> hf,
      Map<String, RawTensor> graph, HfDialect dialect) throws IOException {
    InMemoryCheckpoint stored = new InMemoryCheckpoint("hf", hf.values());
    HfCanonicalReader r = HfCanonicalReader.open(stored, config(arch));
    assertEquals(dialect, r.table().dialect(), "dialect told by the names");
    assertEquals(List.copyOf(graph.keySet()), r.tensors().stream().map(TensorInfo::name).toList(),
        "the canonical names are the graph's variables");
    for (TensorInfo t : r.tensors()) {
      RawTensor want = graph.get(t.name());
      assertEquals(want.info(), t, "listed info of " + t.name());
      RawTensor got = r.read(t.name());
      assertEquals(want.info(), got.info(), "read info of " + t.name());
      assertArrayEquals(want.bytes(), got.bytes(), "bytes of " + t.name() + " from " + r.storedName(t.name()));
    }
    return r;
  }

  // ---- refusals ----

  private static String refusal(dev.upcycle.model.ArchitectureConfig arch, Map<String, RawTensor> base,
      Consumer<Map<String, RawTensor>> damage) {
    Map<String, RawTensor> hf = new LinkedHashMap<>(base);
    damage.accept(hf);
    InMemoryCheckpoint stored = new InMemoryCheckpoint("damaged", hf.values());
    return assertThrows(CheckpointFormatException.class, () -> HfCanonicalReader.open(stored, config(arch)))
        .getMessage();
  }

  private static RawTensor f32(String name, long... shape) {
    int n = 1;
    for (long d : shape) {
      n *= (int) d;
    }
    return HfTestTensors.of(name, shape, new float[n]);
  }

  @Test
  void aMissingWeightIsNamed() {
    String msg = refusal(T5, torchT5(t5), hf -> hf.remove("decoder.block.1.layer.2.DenseReluDense.wo.weight"));
    assertTrue(msg.contains("missing") && msg.contains("decoder.block.1.layer.2.DenseReluDense.wo.weight"), msg);
    String lm = refusal(T5, flaxT5(t5), hf -> hf.remove("lm_head/kernel"));
    assertTrue(lm.contains("missing") && lm.contains("lm_head/kernel"), lm);
  }

  @Test
  void anUnknownWeightIsNamedNotDropped() {
    String msg = refusal(T5, torchT5(t5), hf -> hf.put("encoder.block.0.layer.0.SelfAttention.extra.weight",
        f32("encoder.block.0.layer.0.SelfAttention.extra.weight", 4, 4)));
    assertTrue(msg.contains("does not know") && msg.contains("encoder.block.0.layer.0.SelfAttention.extra.weight"),
        msg);
    // a third encoder block is unknown to a 2-layer config
    String deeper = refusal(T5, torchT5(t5), hf -> hf.put("encoder.block.2.layer.0.layer_norm.weight",
        f32("encoder.block.2.layer.0.layer_norm.weight", 64)));
    assertTrue(deeper.contains("encoder.block.2.layer.0.layer_norm.weight") && deeper.contains("2 encoder"), deeper);
  }

  @Test
  void aViTModelPoolerIsRefusedByName() {
    String msg = refusal(VIT, torchVit(vit), hf -> {
      hf.put("vit.pooler.dense.weight", f32("vit.pooler.dense.weight", 64, 64));
      hf.put("vit.pooler.dense.bias", f32("vit.pooler.dense.bias", 64));
    });
    assertTrue(msg.contains("'vit.pooler.dense.weight' is a ViTModel pooler"), msg);
    assertTrue(msg.contains("'vit.pooler.dense.bias'"), msg);
  }

  @Test
  void aT5V10MlpIsRefusedByName() {
    String msg = refusal(T5, torchT5(t5), hf -> hf.put("encoder.block.0.layer.1.DenseReluDense.wi.weight",
        f32("encoder.block.0.layer.1.DenseReluDense.wi.weight", 128, 64)));
    assertTrue(msg.contains("'encoder.block.0.layer.1.DenseReluDense.wi.weight' is a T5 v1.0 MLP"), msg);
  }

  @Test
  void aDuplicateThatDiffersFromSharedIsRefused() {
    String msg = refusal(T5, torchT5(t5), hf -> hf.put("encoder.embed_tokens.weight",
        f32("encoder.embed_tokens.weight", 1024, 32)));
    assertTrue(msg.contains("'encoder.embed_tokens.weight'") && msg.contains("should repeat 'shared.weight'"), msg);
  }

  @Test
  void nonFloatingAndWrongRankWeightsAreRefused() {
    String msg = refusal(T5, torchT5(t5), hf -> {
      hf.put("lm_head.weight", new RawTensor(new TensorInfo("lm_head.weight", DType.INT32, new long[] {1024, 64}),
          ByteBuffer.allocate(1024 * 64 * 4)));
      hf.put("encoder.block.0.layer.0.SelfAttention.q.weight", f32("encoder.block.0.layer.0.SelfAttention.q.weight",
          64 * 64));
    });
    assertTrue(msg.contains("'lm_head.weight' holds int32"), msg);
    assertTrue(msg.contains("'encoder.block.0.layer.0.SelfAttention.q.weight' has shape [4096]")
        && msg.contains("needs rank 2"), msg);
  }

  @Test
  void anUnknownCanonicalNameIsNamedOnRead() throws IOException {
    HfCanonicalReader r = HfCanonicalReader.open(new InMemoryCheckpoint("hf", torchVit(vit).values()), config(VIT));
    CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> r.read("encoder/nothing"));
    assertTrue(e.getMessage().contains("encoder/nothing"), e.getMessage());
  }

  @Test
  void everyTableRowIsUsedOnceForEachDialect() {
    for (HfDialect dialect : HfDialect.values()) {
      for (HfNameTable table : List.of(HfT5Names.table(dialect), HfVitNames.table(dialect))) {
        List<HfNameTable.Entry> entries = table.entries(3, 2);
        List<String> stored = new ArrayList<>(entries.stream().map(HfNameTable.Entry::stored).toList());
        List<String> canonical = new ArrayList<>(entries.stream().map(HfNameTable.Entry::canonical).toList());
        assertEquals(stored.size(), stored.stream().distinct().count(), "stored names unique in " + table.naming());
        assertEquals(canonical.size(), canonical.stream().distinct().count(), "canonical names unique in "
            + table.naming());
        for (String s : stored) {
          assertEquals(dialect == HfDialect.FLAX, s.contains("/"), s + " spelled in " + dialect);
        }
      }
    }
  }
}
