package dev.upcycle.ckpt.names;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.model.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TablesTest {

  /** Hand-written: the variables of a 2+2-layer Mesh-TF T5 v1.1 model, each with its canonical name. */
  private static Map<String, String> meshTfTwoLayerModel() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("shared/embedding", "token_embedder/embedding");
    m.put("encoder/block_000/layer_000/SelfAttention/relative_attention_bias", "encoder/relpos_bias/rel_embedding");
    m.put("decoder/block_000/layer_000/SelfAttention/relative_attention_bias", "decoder/relpos_bias/rel_embedding");
    for (int i = 0; i < 2; i++) {
      String e = "encoder/block_00" + i + "/";
      String ce = "encoder/layers_" + i + "/";
      m.put(e + "layer_000/SelfAttention/q", ce + "attention/query/kernel");
      m.put(e + "layer_000/SelfAttention/k", ce + "attention/key/kernel");
      m.put(e + "layer_000/SelfAttention/v", ce + "attention/value/kernel");
      m.put(e + "layer_000/SelfAttention/o", ce + "attention/out/kernel");
      m.put(e + "layer_000/rms_norm/scale", ce + "pre_attention_layer_norm/scale");
      m.put(e + "layer_001/DenseReluDense/wi_0/kernel", ce + "mlp/wi_0/kernel");
      m.put(e + "layer_001/DenseReluDense/wi_1/kernel", ce + "mlp/wi_1/kernel");
      m.put(e + "layer_001/DenseReluDense/wo/kernel", ce + "mlp/wo/kernel");
      m.put(e + "layer_001/rms_norm/scale", ce + "pre_mlp_layer_norm/scale");
      String d = "decoder/block_00" + i + "/";
      String cd = "decoder/layers_" + i + "/";
      m.put(d + "layer_000/SelfAttention/q", cd + "self_attention/query/kernel");
      m.put(d + "layer_000/SelfAttention/k", cd + "self_attention/key/kernel");
      m.put(d + "layer_000/SelfAttention/v", cd + "self_attention/value/kernel");
      m.put(d + "layer_000/SelfAttention/o", cd + "self_attention/out/kernel");
      m.put(d + "layer_000/rms_norm/scale", cd + "pre_self_attention_layer_norm/scale");
      m.put(d + "layer_001/EncDecAttention/q", cd + "encoder_decoder_attention/query/kernel");
      m.put(d + "layer_001/EncDecAttention/k", cd + "encoder_decoder_attention/key/kernel");
      m.put(d + "layer_001/EncDecAttention/v", cd + "encoder_decoder_attention/value/kernel");
      m.put(d + "layer_001/EncDecAttention/o", cd + "encoder_decoder_attention/out/kernel");
      m.put(d + "layer_001/rms_norm/scale", cd + "pre_cross_attention_layer_norm/scale");
      m.put(d + "layer_002/DenseReluDense/wi_0/kernel", cd + "mlp/wi_0/kernel");
      m.put(d + "layer_002/DenseReluDense/wi_1/kernel", cd + "mlp/wi_1/kernel");
      m.put(d + "layer_002/DenseReluDense/wo/kernel", cd + "mlp/wo/kernel");
      m.put(d + "layer_002/rms_norm/scale", cd + "pre_mlp_layer_norm/scale");
    }
    m.put("encoder/rms_norm/scale", "encoder/encoder_norm/scale");
    m.put("decoder/rms_norm/scale", "decoder/decoder_norm/scale");
    m.put("decoder/logits/kernel", "decoder/logits_dense/kernel");
    return m;
  }

  @Test
  void meshTfTwoLayerModelMapsOneToOne() {
    Map<String, String> expected = meshTfTwoLayerModel();
    List<String> names = new ArrayList<>(expected.keySet());
    names.add("global_step");
    NameMap map = MeshTfNames.nameMap();
    NameCheckReport report = map.check(names);
    assertTrue(report.ok(), report.format());
    expected.forEach((src, dst) -> assertEquals(Optional.of(dst), map.apply(src), src));
    assertEquals(Optional.of("state/step"), map.apply("global_step"));
  }

  @Test
  void meshTfAdafactorSlots() {
    NameMap map = MeshTfNames.nameMap();
    assertEquals(Optional.of("state/param_states/encoder/layers_1/attention/query/kernel/v_row"),
        map.apply("encoder/block_001/layer_000/SelfAttention/q_slot_vr"));
    assertEquals(Optional.of("state/param_states/decoder/layers_0/mlp/wo/kernel/v_col"),
        map.apply("decoder/block_000/layer_002/DenseReluDense/wo/kernel_slot_vc"));
    assertEquals(Optional.of("state/param_states/encoder/encoder_norm/scale/v"),
        map.apply("encoder/rms_norm/scale_slot_v"));
    assertEquals(Optional.of("state/param_states/token_embedder/embedding/v_row"),
        map.apply("shared/embedding_slot_vr"));
    // Every parameter with its three slots: still one-to-one.
    List<String> all = new ArrayList<>();
    for (String p : meshTfTwoLayerModel().keySet()) {
      all.add(p);
      all.add(p + "_slot_vr");
      all.add(p + "_slot_vc");
      all.add(p + "_slot_v");
    }
    assertTrue(MeshTfNames.nameMap().check(all).ok(), MeshTfNames.nameMap().check(all).format());
  }

  @Test
  void meshTfBlockNumbersAreThreeDigitsAndBecomeIntegers() {
    NameMap map = MeshTfNames.nameMap();
    assertEquals(Optional.of("encoder/layers_10/mlp/wi_0/kernel"),
        map.apply("encoder/block_010/layer_001/DenseReluDense/wi_0/kernel"));
    assertEquals(Optional.of("decoder/layers_123/pre_mlp_layer_norm/scale"),
        map.apply("decoder/block_123/layer_002/rms_norm/scale"));
    assertEquals(Optional.empty(), map.apply("encoder/block_1/layer_000/SelfAttention/q"));
    assertEquals(Optional.empty(), map.apply("encoder/block_0001/layer_000/SelfAttention/q"));
    // The encoder's MLP is layer_001, the decoder's layer_002: the swapped spellings are unmapped.
    assertEquals(Optional.empty(), map.apply("encoder/block_000/layer_002/DenseReluDense/wo/kernel"));
    assertEquals(Optional.empty(), map.apply("decoder/block_000/layer_001/DenseReluDense/wo/kernel"));
  }

  @Test
  void t5xNamesStripTarget() {
    NameMap from = T5xNames.fromT5x();
    assertEquals(Optional.of("encoder/layers_0/mlp/wi_0/kernel"), from.apply("target/encoder/layers_0/mlp/wi_0/kernel"));
    assertEquals(Optional.of("state/param_states/encoder/layers_0/mlp/wi_0/kernel/v_row"),
        from.apply("state/param_states/encoder/layers_0/mlp/wi_0/kernel/v_row"));
    assertEquals(Optional.of("state/step"), from.apply("state/step"));
    assertEquals(NameMap.Kind.UNMAPPED, from.resolve("flax_mutables/x").kind());
    NameMap to = T5xNames.toT5x();
    for (String n : List.of("target/token_embedder/embedding", "state/step", "state/param_states/a/v")) {
      assertEquals(Optional.of(n), to.apply(from.apply(n).orElseThrow()), n);
    }
  }

  @Test
  void tf2ObjectGraphNames() {
    NameMap map = Tf2ObjectGraphNames.nameMap();
    // Names of the half_plus_two TF2 SavedModel's variables/ (MANIFEST.md, savedmodels listing).
    List<String> names = List.of("_CHECKPOINTABLE_OBJECT_GRAPH", "a/.ATTRIBUTES/VARIABLE_VALUE",
        "b/.ATTRIBUTES/VARIABLE_VALUE", "c/.ATTRIBUTES/VARIABLE_VALUE", "save_counter/.ATTRIBUTES/VARIABLE_VALUE");
    NameCheckReport r = map.check(names);
    assertTrue(r.ok(), r.format());
    assertEquals(2, r.droppedCount());
    assertEquals(Optional.of("a"), map.apply("a/.ATTRIBUTES/VARIABLE_VALUE"));
    assertEquals(Optional.of("encoder/layers_0/mlp/wi/kernel"),
        map.apply("encoder/layers_0/mlp/wi/kernel/.ATTRIBUTES/VARIABLE_VALUE"));
    assertEquals(Optional.of("state/param_states/dense/kernel/m"),
        map.apply("dense/kernel/.OPTIMIZER_SLOT/optimizer/m/.ATTRIBUTES/VARIABLE_VALUE"));
  }

  private static List<String> t2tNames() throws IOException {
    List<String> names = new ArrayList<>();
    for (String line : Files.readAllLines(Fixtures.fixture("_listings/t2t_transformer_test_ckpt.txt"))) {
      if (line.startsWith("  ")) {
        names.add(line.strip().split("\\s+")[0]);
      }
    }
    return names;
  }

  @Test
  void t2tMapCoversTheFixtureOneToOne() throws IOException {
    List<String> names = t2tNames();
    assertEquals(250, names.size()); // MANIFEST: 250 variables
    NameMap map = NameMap.resource("t2t-transformer.map");
    NameCheckReport r = map.check(names);
    assertTrue(r.ok(), r.format());
    // 81 trainable weights (each has an Adam slot pair) + global_step are kept.
    assertEquals(82, r.mappedCount(), r.format());
    assertEquals(168, r.droppedCount());
    assertEquals(Optional.of("encoder/layers_1/mlp/wi/kernel"),
        map.apply("transformer/body/encoder/layer_1/ffn/conv1/kernel"));
    assertEquals(Optional.of("decoder/layers_0/mlp/wo/bias"),
        map.apply("transformer/body/decoder/layer_0/ffn/conv2/bias"));
    assertEquals(Optional.of("decoder/layers_1/encoder_decoder_attention/out/kernel"),
        map.apply("transformer/body/decoder/layer_1/encdec_attention/multihead_attention/output_transform/kernel"));
    assertEquals(Optional.of("encoder/layers_0/pre_attention_layer_norm/scale"),
        map.apply("transformer/body/encoder/layer_0/self_attention/layer_prepostprocess/layer_norm/layer_norm_scale"));
    assertEquals(Optional.of("token_embedder/embedding_shards/15"),
        map.apply("transformer/symbol_modality_8190_16/shared/weights_15"));
    assertEquals(Optional.of("state/step"), map.apply("global_step"));
    assertEquals(NameMap.Kind.DROPPED,
        map.resolve("training/transformer/body/decoder/layer_0/ffn/conv1/kernel/Adam_1").kind());
    // Every mapped name is canonical-looking: no t2t spelling survives.
    Set<String> targets = new HashSet<>();
    for (NameMap.Outcome o : r.outcomes()) {
      if (o.kind() == NameMap.Kind.MAPPED) {
        targets.add(o.target());
        assertTrue(!o.target().contains("transformer/") && !o.target().contains("conv"), o.target());
      }
    }
    assertEquals(82, targets.size());
  }
}
